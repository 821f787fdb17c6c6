type Listener = (signal: NodeJS.Signals) => void;

/** The preload's own listener for each signal, which the program must not see. */
const unseen = new Map<string | symbol, Listener>();

/**
 * Listens for `signal` without the program seeing it in `process.listeners()`. Whether anyone else
 * listens decides what a signal does, and a listener of the preload's must not change that.
 * signal-exit (behind write-file-atomic, execa, ink and many more) ends the process by raising the
 * signal again only when its listener is the only one; seeing one more, it would leave the program
 * running, deaf to SIGTERM and Ctrl-C.
 *
 * `process.listenerCount()` is left as it is: Node itself asks it whether to stop listening for the
 * signal at all (lib/internal/process/signal.js), and a count without this listener would make
 * Node drop it while it is still wanted.
 */
export function listenUnseen(signal: NodeJS.Signals, listener: Listener): void {
  if (unseen.size === 0) hideUnseen();
  unseen.set(signal, listener);
  process.on(signal, listener);
}

/** Whether the preload still listens for the signal (see listenUnseen). */
export function listeningUnseen(signal: NodeJS.Signals): boolean {
  return unseen.has(signal);
}

/** Stops listening; the signal's default action (ending the program) applies again when no one else listens. */
export function stopListeningUnseen(signal: NodeJS.Signals): void {
  const listener = unseen.get(signal);
  if (!listener) return;
  unseen.delete(signal);
  process.removeListener(signal, listener);
}

function hideUnseen(): void {
  const { listeners, rawListeners } = process;
  const seen = (all: ((...args: never) => unknown)[], event: string | symbol) => {
    const listener = unseen.get(event);
    return listener ? all.filter((each) => each !== listener) : all;
  };
  process.listeners = function (this: NodeJS.Process, event: string | symbol) {
    return seen(Reflect.apply(listeners, this, [event]), event);
  } as typeof process.listeners;
  process.rawListeners = function (this: NodeJS.Process, event: string | symbol) {
    return seen(Reflect.apply(rawListeners, this, [event]), event);
  } as typeof process.rawListeners;
}
