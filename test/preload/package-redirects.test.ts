import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { runInNewContext } from 'node:vm';
import { initialize, resolve, type PackageCopy } from '../../src/preload/package-redirects.ts';

const TOOL = 'file:///opt/otel-mlflow/dist/';

type Resolution = { url: string };

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'otel-mlflow-redirects-'));
});
after(() => rm(root, { recursive: true, force: true }));

/** A project with a dual-build `openai` (a CommonJS build for require, an ES module one otherwise) and its main module. */
async function project(name: string): Promise<{ main: string; esm: string; cjs: string }> {
  const dir = join(root, name);
  const pkg = join(dir, 'node_modules', 'openai');
  await mkdir(pkg, { recursive: true });
  const manifest = { name: 'openai', exports: { '.': { require: './index.js', default: './index.mjs' } } };
  await Promise.all([
    writeFile(join(pkg, 'package.json'), JSON.stringify(manifest)),
    writeFile(join(pkg, 'index.js'), ''),
    writeFile(join(pkg, 'index.mjs'), ''),
    writeFile(join(dir, 'app.cjs'), ''),
  ]);
  return {
    main: pathToFileURL(join(dir, 'app.cjs')).href,
    esm: pathToFileURL(join(pkg, 'index.mjs')).href,
    cjs: pathToFileURL(join(pkg, 'index.js')).href,
  };
}

/** Node's default resolution of an import as Node 22.15–22.19 and 24.0–24.7 do it: the conditions it is given are ignored. */
const ignoringConditions = (esm: string) => () => ({ url: esm });

describe('the resolution hooks, on every Node the program may run on', () => {
  it('give the tool the CommonJS build a CommonJS program requires, also where Node ignores the conditions given to an import', async () => {
    const { main, esm, cjs } = await project('conditions-ignored');
    initialize({ fromUrl: TOOL, packages: [{ name: 'openai', followCopies: true, parentURL: main, commonJs: true }] }, () => undefined);
    const resolved = resolve(
      'openai',
      { parentURL: `${TOOL}preload/patch-openai.js`, conditions: ['node', 'import'] },
      ignoringConditions(esm),
    );
    assert.equal(resolved.url, cjs);
  });

  it('take a require whose conditions are a Set of Node’s own (22.15–22.19, 24.0–24.7) for a CommonJS load of a copy', async () => {
    const { main, cjs } = await project('conditions-a-set');
    const copies: PackageCopy[] = [];
    initialize({ fromUrl: TOOL, packages: [{ name: 'openai', followCopies: true, parentURL: main, commonJs: false }] }, (copy) =>
      copies.push(copy),
    );
    // Made in another realm, as Node's internal Set is: no `instanceof Set` here.
    const conditions = runInNewContext('new Set(["node", "require", "node-addons"])') as Iterable<string>;
    const resolved = resolve('openai', { parentURL: main, conditions }, () => ({ url: cjs }));
    assert.equal(resolved.url, cjs);
    assert.deepEqual(
      copies.map(({ name, url, commonJs }) => ({ name, url, commonJs })),
      [{ name: 'openai', url: cjs, commonJs: true }],
    );
  });

  it('tell the first copy the program resolves before it loads it, and give the tool that copy, in the format the program loads it', async () => {
    // The main module is an ES module; the program's first load of openai is a require() (a CommonJS library of its).
    const { cjs } = await project('first-copy');
    const main = pathToFileURL(join(root, 'first-copy', 'app.mjs')).href;
    const copies: PackageCopy[] = [];
    initialize({ fromUrl: TOOL, packages: [{ name: 'openai', followCopies: true, parentURL: main, commonJs: false }] }, (copy) =>
      copies.push(copy),
    );
    const library = pathToFileURL(join(root, 'first-copy', 'lib.cjs')).href;
    resolve('openai', { parentURL: library, conditions: ['node', 'require'] }, () => ({ url: cjs }));
    assert.deepEqual(copies, [{ name: 'openai', tag: undefined, url: cjs, commonJs: true }]);
    const forTheTool = resolve(
      'openai',
      { parentURL: `${TOOL}preload/patch-openai.js`, conditions: ['node', 'import'] },
      (): Resolution => {
        throw new Error('resolved as an import, not as the program required it');
      },
    );
    assert.equal(forTheTool.url, cjs);
  });

  it('take no package in an instrumented package’s own node_modules for a copy of it', () => {
    const copies: PackageCopy[] = [];
    initialize(
      { fromUrl: TOOL, packages: [{ name: 'openai', followCopies: true, parentURL: 'file:///app/app.mjs', commonJs: false }] },
      (copy) => copies.push(copy),
    );
    const nested = 'file:///app/node_modules/openai/node_modules/formdata/index.js';
    resolve('formdata', { parentURL: 'file:///app/node_modules/openai/index.js', conditions: ['node', 'import'] }, () => ({ url: nested }));
    assert.deepEqual(copies, []);
  });
});
