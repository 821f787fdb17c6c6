/**
 * Loaded into the program by `otel-mlflow run` with `--require`, before any code of the program's
 * own: Node delivers a signal through `process.emit` as it was when the signal's first listener was
 * added (it binds it then), so only what comes before every listener sees each delivery.
 *
 * run passes every request to stop on to the program. A supervisor that signals every process of the
 * service itself as well (systemd's default KillMode=control-group, pm2's tree kill) makes one request
 * arrive twice, moments apart; and many programs take a second request as "now", cutting their own
 * clean-up short and exiting 1. The copy is dropped, as run drops the copies that reach it
 * (src/cli/stop-requests.ts): the same signal again within a second of the request it copies. A
 * person who means "now" signals again after that, and it reaches the program.
 *
 * A signal the program raises at itself is no copy: signal-exit and many clean-ups raise the signal
 * they handled again, to end by it. Nor is a program's own `process.emit('SIGTERM')`.
 */
const { constants } = require('node:os') as typeof import('node:os');
const { isMainThread } = require('node:worker_threads') as typeof import('node:worker_threads');

/** The requests to stop that run passes on (src/commands/run/program-process.ts). */
const STOPS: ReadonlySet<string> = new Set(['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT']);
/** src/cli/stop-requests.ts's SAME_REQUEST_MS, which a CommonJS file cannot import from an ES module. */
const SAME_REQUEST_MS = 1_000;

// Signals reach the main thread alone.
if (isMainThread) {
  /** When the request each signal last made arrived; a copy does not move it, so copies cannot hold off a new request. */
  const requestedAt = new Map<string, number>();
  /** Signals the program raised at itself and Node has not delivered yet. */
  const raisedHere = new Map<string, number>();

  const isCopy = (signal: string): boolean => {
    const raised = raisedHere.get(signal) ?? 0;
    if (raised > 0) {
      raisedHere.set(signal, raised - 1);
      return false;
    }
    const at = performance.now();
    if (at - (requestedAt.get(signal) ?? Number.NEGATIVE_INFINITY) < SAME_REQUEST_MS) return true;
    requestedAt.set(signal, at);
    return false;
  };

  const emit = process.emit;
  process.emit = function (this: NodeJS.Process, event: string | symbol, ...args: unknown[]): boolean {
    // Node delivers a signal as emit(name, name).
    if (typeof event === 'string' && STOPS.has(event) && args[0] === event && isCopy(event)) return false;
    return Reflect.apply(emit, this, [event, ...args]) as boolean;
  } as typeof process.emit;

  const kill = process.kill;
  process.kill = (pid: number, signal?: string | number): true => {
    const name =
      typeof signal === 'number'
        ? Object.keys(constants.signals).find((key) => constants.signals[key as NodeJS.Signals] === signal)
        : (signal ?? 'SIGTERM');
    const sent = kill.call(process, pid, signal);
    // Node delivers it on a later turn of the event loop, never within this call.
    if ((pid === process.pid || pid === 0) && name && STOPS.has(name)) raisedHere.set(name, (raisedHere.get(name) ?? 0) + 1);
    return sent;
  };
}
