import type { InstrumentationSettings } from './instrumentation-settings.ts';

/**
 * The packages whose clients are instrumented in the program, each by a module that imports the
 * package by name (and so gets the program's copy) and patches it where every client passes. Adding
 * a provider or a framework is one entry.
 */
export interface PackagePatcher {
  /** As the program imports it. */
  package: string;
  patch(settings: InstrumentationSettings): Promise<void>;
}

export const PACKAGE_PATCHERS: readonly PackagePatcher[] = [
  { package: 'openai', patch: async (settings) => (await import('./patch-openai.ts')).patchOpenAI(settings) },
  { package: '@anthropic-ai/sdk', patch: async (settings) => (await import('./patch-anthropic.ts')).patchAnthropic(settings) },
  { package: 'ai', patch: async (settings) => (await import('./patch-vercel-ai.ts')).patchVercelAi(settings) },
  { package: '@langchain/core', patch: async (settings) => (await import('./patch-langchain.ts')).patchLangChain(settings) },
];
