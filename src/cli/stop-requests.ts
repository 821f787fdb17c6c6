import { signalExitCode } from '../errors.ts';
/**
 * A stop signal this soon after the previous request is the same request delivered twice, not a
 * second one: a terminal's Ctrl-C reaches every process of the foreground group, and the launcher
 * (bin/otel-mlflow.js) or npm passes its own copy on a moment later; systemd signals every process
 * of the service at once. A person who means "now" presses again after this.
 */
export const SAME_REQUEST_MS = 1_000;

export type StopRequestListener = (signal: NodeJS.Signals, count: number) => void;

/**
 * Tells a copy of the latest request to stop from a new request, and notes a new one's arrival.
 * Listeners that take turns share one (`run`'s, while its program runs and then while it delivers
 * the program's traces): the copy of a Ctrl-C that ended the program is not a request to stop
 * delivering.
 */
export type IsCopy = () => boolean;

export function copiesOfLastRequest(now: () => number = () => performance.now()): IsCopy {
  /** When the latest request counted arrived. */
  let last = -Infinity;
  return () => {
    const at = now();
    if (at - last < SAME_REQUEST_MS) return true;
    last = at;
    return false;
  };
}

/**
 * Calls `onRequest` once per request to stop, counted from 1, however many copies of a signal
 * arrived for it. Returns the function that stops listening.
 */
export function onStopRequest(
  signals: readonly NodeJS.Signals[],
  onRequest: StopRequestListener,
  isCopy: IsCopy = copiesOfLastRequest(),
): () => void {
  const listener = countStopRequests(onRequest, isCopy);
  for (const signal of signals) process.on(signal, listener);
  return () => {
    for (const signal of signals) process.removeListener(signal, listener);
  };
}

/**
 * Calls `onFirst` on the first request to stop; a later one means "now": the process exits at once,
 * as that signal would have ended it. Returns the function that stops listening.
 */
export function onStopRequestThenNow(
  signals: readonly NodeJS.Signals[],
  onFirst: (signal: NodeJS.Signals) => void,
  isCopy?: IsCopy,
): () => void {
  return onStopRequest(signals, (signal, count) => (count === 1 ? onFirst(signal) : process.exit(signalExitCode(signal))), isCopy);
}

/** The signal listener behind `onStopRequest`: it drops the copies of a request. */
export function countStopRequests(
  onRequest: StopRequestListener,
  isCopy: IsCopy = copiesOfLastRequest(),
): (signal: NodeJS.Signals) => void {
  let count = 0;
  return (signal) => {
    if (isCopy()) return;
    count += 1;
    onRequest(signal, count);
  };
}
