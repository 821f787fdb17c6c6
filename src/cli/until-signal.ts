import { signalExitCode } from '../errors.ts';
import { onStopRequest } from './stop-requests.ts';

/** How often a server started through a wrapper looks whether the wrapper is still there. */
const PARENT_CHECK_MS = 1_000;
/** Set by bin/otel-mlflow.js in the environment of the command it re-runs under the pinned Node. */
const LAUNCHER_MARK = 'OTEL_MLFLOW_PINNED_NODE';
/** Read when the command loads, so a wrapper that went away while the server was starting counts too. */
const PARENT_AT_START = process.ppid;

export interface StopRequests {
  /**
   * A reason to stop: SIGINT or SIGTERM (named), or — when a wrapper started this process — the
   * wrapper going away, which can no longer pass a signal on.
   */
  first: Promise<string>;
  /**
   * Aborted, with its signal as the reason, by a second request while shutting down: stop waiting
   * (for requests in progress, for the destination), and say what is left on disk. A third means
   * "now": the process exits at once.
   */
  interrupt: AbortSignal;
}

export function untilSignal(env: Readonly<Record<string, string | undefined>>): StopRequests {
  const interrupt = new AbortController();
  let stopping = false;
  let stop!: (reason: string) => void;
  const first = new Promise<string>((resolve) => {
    stop = (reason) => {
      stopping = true;
      stopWatching();
      resolve(reason);
    };
  });
  const stopWatching = onWrapperGone(env, stop);
  onStopRequest(['SIGINT', 'SIGTERM'], (signal) => {
    if (!stopping) stop(signal);
    else if (!interrupt.signal.aborted) interrupt.abort(signal);
    else process.exit(signalExitCode(signal));
  });
  return { first, interrupt: interrupt.signal };
}

/** For the closing line: the signal that cut the wait for delivery short, if one did. */
export function interruptedBy(interrupt: AbortSignal): { interruptedBy?: NodeJS.Signals } {
  return interrupt.aborted ? { interruptedBy: interrupt.reason as NodeJS.Signals } : {};
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
