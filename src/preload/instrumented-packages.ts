import { createRequire, Module } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { InstrumentationSettings } from './instrumentation-settings.ts';
import { COPY_PARAMETER } from './package-redirects.ts';

/**
 * The packages whose clients are instrumented in the program, each by a module that imports the
 * package by name (and so gets the program's copy) and patches it where every client passes. Adding
 * a provider or a framework is one entry and its module.
 */
export interface PackagePatcher {
  /** As the program imports it. */
  package: string;
  /**
   * Whether a copy the program loads besides the first (the other build, another version) is
   * patched too. The patch must import the package's main entry: copies are told apart by it.
   */
  followCopies: boolean;
  /** This folder's module that patches the program's copy of the package: it imports the package by name and exports `patch`. */
  module: string;
}

export const PACKAGE_PATCHERS: readonly PackagePatcher[] = [
  { package: 'openai', followCopies: true, module: 'patch-openai' },
  { package: '@anthropic-ai/sdk', followCopies: true, module: 'patch-anthropic' },
  { package: 'ai', followCopies: true, module: 'patch-vercel-ai' },
  // Patched through a subpath (its callbacks' manager): one LangChain per program.
  { package: '@langchain/core', followCopies: false, module: 'patch-langchain' },
  { package: '@koa/router', followCopies: true, module: 'patch-koa-router' },
  { package: 'hono', followCopies: true, module: 'patch-hono' },
];

interface PatchModule {
  patch(settings: InstrumentationSettings): void;
}

const require = createRequire(import.meta.url);

/** This folder's patch module of `patcher`, as built (the preload runs built only); tagged for a copy besides the first. */
function moduleUrl({ module }: PackagePatcher, copy: string | undefined): URL {
  const url = new URL(`./${module}.js`, import.meta.url);
  if (copy !== undefined) url.searchParams.set(COPY_PARAMETER, copy);
  return url;
}

/**
 * Patches a copy of the package as the program resolves it, before the program loads it: even a call
 * in the same step as its `require()`, or in the body of the module that imports it, is traced. The
 * patch module is loaded synchronously, as `require()` loads an ES module: for the first copy, the
 * one the tool's own imports of the package get, the module itself; for a copy tagged `copy` (see
 * package-redirects.ts), an instance of its own, whose imports of the package (and of everything from
 * the tool) get that copy. False when the module cannot be loaded so (the program switched require()
 * of ES modules off, or top-level await in its graph): `patchLater` can.
 */
export function patchNow(patcher: PackagePatcher, settings: InstrumentationSettings, copy: string | undefined): boolean {
  const url = moduleUrl(patcher, copy);
  let patchModule: PatchModule;
  try {
    patchModule = (copy === undefined ? require(fileURLToPath(url)) : requireTagged(url, copy)) as PatchModule;
  } catch {
    return false;
  }
  patchModule.patch(settings);
  return true;
}

/**
 * A tagged instance, synchronously. `require()` knows a module by its file, and would give the first
 * copy's instance again: the tagged one is imported by a module made up for it, under a file name of
 * its own (none is written), compiled as `require()` compiles an ES module.
 */
function requireTagged(url: URL, copy: string): unknown {
  const filename = fileURLToPath(url).replace(/\.js$/, `.copy-${copy}.js`);
  const root = new Module(filename) as Module & { _compile(source: string, filename: string, format: 'module'): void };
  root._compile(`export * from ${JSON.stringify(url.href)};`, filename, 'module');
  return root.exports;
}

/** Patches the copy the program's main module would load (the module hooks then run in a thread of their own), or a copy `patchNow` could not. */
export async function patchLater(patcher: PackagePatcher, settings: InstrumentationSettings, copy?: string): Promise<void> {
  ((await import(moduleUrl(patcher, copy).href)) as PatchModule).patch(settings);
}
