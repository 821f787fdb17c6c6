import * as callbacksManager from '@langchain/core/callbacks/manager';
import { installLangChainHandler } from '../tracing/langchain/install-langchain.ts';
import type { InstrumentationSettings } from './instrumentation-settings.ts';

/**
 * Every LangChain run of the program: this is the very module the program's `@langchain/core`
 * loads its callbacks from (the same file, so the same `CallbackManager`), whatever path it took.
 */
export function patch(settings: InstrumentationSettings): void {
  installLangChainHandler(callbacksManager, settings);
}
