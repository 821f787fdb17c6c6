import type { InstrumentationSettings } from './instrumentation-settings.ts';
import { COPY_PARAMETER } from './package-redirects.ts';

/**
 * The packages whose clients are instrumented in the program, each by a module that imports the
 * package by name (and so gets the program's copy) and patches it where every client passes. Adding
 * a provider or a framework is one entry.
 */
export interface PackagePatcher {
  /** As the program imports it. */
  package: string;
  /**
   * Whether a copy the program loads besides the first (the other build, another version) is
   * patched too. The patch must import the package's main entry: copies are told apart by it.
   */
  followCopies: boolean;
  /**
   * Patches the program's copy of the package: the one its main module would load, or the copy
   * tagged `copy` that the program loaded besides (see package-redirects.ts).
   */
  patch(settings: InstrumentationSettings, copy?: string): Promise<void>;
}

export const PACKAGE_PATCHERS: readonly PackagePatcher[] = [
  {
    package: 'openai',
    followCopies: true,
    patch: async (settings, copy) => (await load(() => import('./patch-openai.ts'), 'patch-openai', copy)).patchOpenAI(settings),
  },
  {
    package: '@anthropic-ai/sdk',
    followCopies: true,
    patch: async (settings, copy) => (await load(() => import('./patch-anthropic.ts'), 'patch-anthropic', copy)).patchAnthropic(settings),
  },
  {
    package: 'ai',
    followCopies: true,
    patch: async (settings, copy) => (await load(() => import('./patch-vercel-ai.ts'), 'patch-vercel-ai', copy)).patchVercelAi(settings),
  },
  {
    package: '@langchain/core',
    // Patched through a subpath (its callbacks' manager): one LangChain per program.
    followCopies: false,
    patch: async (settings, copy) => (await load(() => import('./patch-langchain.ts'), 'patch-langchain', copy)).patchLangChain(settings),
  },
];

const EXTENSION = import.meta.url.endsWith('.ts') ? 'ts' : 'js';

/**
 * This folder's patch module `name`: as imported, or for a copy of its package an instance of its
 * own (as is everything it imports from the tool), whose imports of the package get that copy.
 */
function load<Module>(imported: () => Promise<Module>, name: string, copy: string | undefined): Promise<Module> {
  if (copy === undefined) return imported();
  const url = new URL(`./${name}.${EXTENSION}`, import.meta.url);
  url.searchParams.set(COPY_PARAMETER, copy);
  return import(url.href) as Promise<Module>;
}
