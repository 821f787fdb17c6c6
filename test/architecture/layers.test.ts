import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The folders of src/, lowest first: each may import only the folders before it. `.` is src/'s own
 * files (errors, version, invocation), which every folder may use.
 */
const LAYERS = [
  '.',
  'util',
  'config',
  'http-client',
  'http-server',
  'workspace-auth',
  'mlflow',
  'spans',
  'otlp',
  'tracing',
  'preload',
  'destination',
  'pipeline',
  'read-back',
  'runtime',
  'relay',
  'agent',
  'cli',
  'commands',
  'program',
] as const;

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

interface ImportEdge {
  from: string;
  to: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Static, type-only, re-export and dynamic imports alike: a type import is an arrow too. */
const IMPORT_SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)'(\.{1,2}\/[^']+)'/gm;

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT_SPECIFIER)].map((match) => resolve(dirname(file), match[1]!));
}

function edges(): ImportEdge[] {
  return sourceFiles(SRC).flatMap((file) => importsOf(file).map((to) => ({ from: relative(SRC, file), to: relative(SRC, to) })));
}

function folderOf(path: string): string {
  const parts = path.split(sep);
  return parts.length === 1 ? '.' : parts[0]!;
}

function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next++;
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node)!, index.get(target)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || graph.get(node)?.includes(node)) cycles.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return cycles;
}

describe('the layout of src/', () => {
  const all = edges();

  it('has no circle between files, type imports included', () => {
    const graph = new Map<string, string[]>();
    for (const { from, to } of all) graph.set(from, [...(graph.get(from) ?? []), to]);
    assert.deepEqual(findCycles(graph), []);
  });

  it('has every folder in a layer', () => {
    const folders = new Set(all.flatMap(({ from, to }) => [folderOf(from), folderOf(to)]));
    const unplaced = [...folders].filter((folder) => !(LAYERS as readonly string[]).includes(folder));
    assert.deepEqual(unplaced, [], 'add new folders to LAYERS, below everything that imports them');
  });

  it('points every import between folders down', () => {
    const rank = (folder: string) => (LAYERS as readonly string[]).indexOf(folder);
    const upward = all
      .filter(({ from, to }) => folderOf(from) !== folderOf(to) && rank(folderOf(to)) > rank(folderOf(from)))
      .map(({ from, to }) => `${from} -> ${to}`);
    assert.deepEqual(upward, []);
  });

  it("is the order the README's map of the folders shows, top first", () => {
    const readme = readFileSync(resolve(SRC, '../README.md'), 'utf8');
    const map = /### Where things are\n[\s\S]*?```\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const shown = [...map.matchAll(/^(\S+)/gm)].map(([, name]) => (name === '*.ts' ? '.' : name!.split('/')[0]!));
    assert.deepEqual(shown, [...LAYERS].reverse());
  });

  it('keeps each command to its own folder', () => {
    const commandOf = (path: string) => (path.startsWith(`commands${sep}`) ? path.split(sep)[1] : undefined);
    const across = all
      .filter(({ from, to }) => commandOf(from) !== undefined && commandOf(to) !== undefined && commandOf(from) !== commandOf(to))
      .map(({ from, to }) => `${from} -> ${to}`);
    assert.deepEqual(across, []);
  });
});
