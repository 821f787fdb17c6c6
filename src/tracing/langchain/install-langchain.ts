import { type LangChainTracingOptions, MlflowCallbackHandler } from './mlflow-callback-handler.ts';

interface CallbackManagerLike {
  handlers: { name?: unknown }[];
  addHandler(handler: unknown, inherit?: boolean): void;
}

type Configure = (this: unknown, ...args: unknown[]) => CallbackManagerLike | undefined;

const INSTALLED = Symbol.for('otel-mlflow.langchain.handler');

/**
 * Adds {@link MlflowCallbackHandler} to every LangChain run of the program, given the exports of its
 * `@langchain/core/callbacks/manager`: every runnable, chat model, tool and retriever asks
 * `CallbackManager._configureSync` (through `configure`) for its callbacks, so the handler is added to
 * the manager it returns — one is made when the program configured none. The handler is added once
 * per manager (by name) and inherited by child runs.
 *
 * Not `registerConfigureHook` from `@langchain/core/context`: it keeps its hooks in an
 * AsyncLocalStorage context variable, seen only by code that continues from where it was called,
 * not by the whole program. Answers whether it installed (false when the exports are not
 * LangChain's); installing twice into one copy of @langchain/core does nothing.
 */
export function installLangChainHandler(callbacksManager: unknown, options: LangChainTracingOptions): boolean {
  const manager =
    typeof callbacksManager === 'object' && callbacksManager !== null
      ? (callbacksManager as Record<string, unknown>).CallbackManager
      : undefined;
  if (typeof manager !== 'function') return false;
  const CallbackManager = manager as unknown as (new () => CallbackManagerLike) & { _configureSync?: Configure; [INSTALLED]?: true };
  const configure = CallbackManager._configureSync;
  if (typeof configure !== 'function') return false;
  if (CallbackManager[INSTALLED]) return true;
  const handler = new MlflowCallbackHandler(options);
  CallbackManager._configureSync = function configureWithMlflow(this: unknown, ...args: unknown[]): CallbackManagerLike {
    const configured = configure.apply(this, args) ?? new CallbackManager();
    if (!configured.handlers.some((existing) => existing.name === handler.name)) configured.addHandler(handler, true);
    return configured;
  };
  CallbackManager[INSTALLED] = true;
  return true;
}
