/**
 * A stop signal this soon after the previous request is the same request delivered twice, not a
 * second one: a terminal's Ctrl-C reaches every process of the foreground group, and the launcher
 * (bin/otel-mlflow.js) or npm passes its own copy on a moment later; systemd signals every process
 * of the service at once. A person who means "now" presses again after this.
 */
export const SAME_REQUEST_MS = 1_000;

export type StopRequestListener = (signal: NodeJS.Signals, count: number) => void;

/**
 * Calls `onRequest` once per request to stop, counted from 1, however many copies of a signal
 * arrived for it. Returns the function that stops listening.
 */
export function onStopRequest(signals: readonly NodeJS.Signals[], onRequest: StopRequestListener): () => void {
  const listener = countStopRequests(onRequest);
  for (const signal of signals) process.on(signal, listener);
  return () => {
    for (const signal of signals) process.removeListener(signal, listener);
  };
}

/** The signal listener behind `onStopRequest`: it drops the copies of a request. */
export function countStopRequests(
  onRequest: StopRequestListener,
  now: () => number = () => performance.now(),
): (signal: NodeJS.Signals) => void {
  let count = 0;
  /** When the latest request counted arrived. */
  let last = -Infinity;
  return (signal) => {
    const at = now();
    if (at - last < SAME_REQUEST_MS) return;
    last = at;
    count += 1;
    onRequest(signal, count);
  };
}
