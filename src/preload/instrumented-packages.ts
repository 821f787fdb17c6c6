import { createRequire } from 'node:module';
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
];

interface PatchModule {
  patch(settings: InstrumentationSettings): void;
}

const require = createRequire(import.meta.url);

/** This folder's patch module of `patcher`, as built: the preload runs built only. */
const moduleUrl = ({ module }: PackagePatcher) => new URL(`./${module}.js`, import.meta.url);

/**
 * Patches the copy the program resolved first, as it resolves it, before the program loads it: even a
 * call in the same step as its `require()`, or in the body of the module that imports it, is traced.
 * `require()` of an ES module, synchronous; the tool's imports of the package get that copy. False
 * when the patch module cannot be loaded so (the program switched require() of ES modules off, or
 * top-level await in its graph): `patchLater` can.
 */
export function patchNow(patcher: PackagePatcher, settings: InstrumentationSettings): boolean {
  let patchModule: PatchModule;
  try {
    patchModule = require(fileURLToPath(moduleUrl(patcher))) as PatchModule;
  } catch {
    return false;
  }
  patchModule.patch(settings);
  return true;
}

/**
 * Patches the copy the program's main module would load, or the copy tagged `copy` that the program
 * loaded besides (see package-redirects.ts) with a patch module of its own: an instance whose imports
 * of the package (and of everything from the tool) get that copy. Not with `require()`, which knows a
 * module by its file and would lose the tag; and not with a load hook that makes up a file for it:
 * with any load hook, most Node 22–24 releases give the patch other instances of a CommonJS program's packages.
 */
export async function patchLater(patcher: PackagePatcher, settings: InstrumentationSettings, copy?: string): Promise<void> {
  const url = moduleUrl(patcher);
  if (copy !== undefined) url.searchParams.set(COPY_PARAMETER, copy);
  ((await import(url.href)) as PatchModule).patch(settings);
}
