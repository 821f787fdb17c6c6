import { onStopRequest } from './stop-requests.ts';

/** How often a server started through a wrapper looks whether the wrapper is still there. */
const PARENT_CHECK_MS = 1_000;
/** Set by bin/otel-mlflow.js in the environment of the command it re-runs under the pinned Node. */
const LAUNCHER_MARK = 'OTEL_MLFLOW_PINNED_NODE';
/** Read when the command loads, so a wrapper that went away while the server was starting counts too. */
const PARENT_AT_START = process.ppid;

/**
 * Waits for a reason to stop: SIGINT or SIGTERM (named in the result), or — when a wrapper started
 * this process — the wrapper going away, which can no longer pass a signal on. A second request
 * while shutting down means "now": exit at once.
 */
export function untilSignal(env: Readonly<Record<string, string | undefined>>): Promise<string> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (reason: string) => {
      stopping = true;
      stopWatching();
      resolve(reason);
    };
    const stopWatching = onWrapperGone(env, stop);
    onStopRequest(['SIGINT', 'SIGTERM'], (signal) => {
      if (!stopping) stop(signal);
      else process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  });
}

/**
 * Calls `onGone` (with why) when the wrapper that started this process goes away; returns what ends
 * the watch. The launcher re-running us under the pinned Node, or npm (npx, npm exec, an npm script)
 * whose shell dies on SIGTERM: when they go away nobody passes signals on, and a server (or the
 * program `run` runs) would go on orphaned. Started any other way (a shell, nohup, a supervisor), the
 * parent's exit is no reason to stop, and nothing is watched.
 */
export function onWrapperGone(env: Readonly<Record<string, string | undefined>>, onGone: (reason: string) => void): () => void {
  return startedByWrapper(env) ? watchParent(onGone) : () => {};
}

function startedByWrapper(env: Readonly<Record<string, string | undefined>>): boolean {
  return Boolean(env[LAUNCHER_MARK] || env.npm_command);
}

/**
 * `process.ppid` changes when the parent exits and the process is handed to init (or a subreaper).
 * `onGone` is called once, and always later, never from within this call.
 */
function watchParent(onGone: (reason: string) => void): () => void {
  const stop = () => {
    clearImmediate(first);
    clearInterval(timer);
  };
  const check = () => {
    if (process.ppid === PARENT_AT_START) return;
    stop();
    onGone(`the process that started otel-mlflow (pid ${PARENT_AT_START}) went away`);
  };
  const first = setImmediate(check);
  const timer = setInterval(check, PARENT_CHECK_MS).unref();
  return stop;
}
