import { setTimeout as delay } from 'node:timers/promises';
import type { Spool, SpoolEnd, SpoolReceiver } from './spool.ts';

/** How often, while a command runs, the spool is sent on. */
const DRAIN_EVERY_MS = 2_000;
/** At the end, how often the spool is tried again while the receiver turns it away. */
const RETRY_MS = 250;

export interface SpoolIntake {
  /**
   * Sends what is left until nothing is, the deadline (epoch ms) passed or `interrupt` aborted, then
   * closes the spool and says what became of it.
   */
  end(deadline: number, interrupt?: AbortSignal): Promise<SpoolEnd>;
}

/**
 * Sends the spool on to the command's own receiver every few seconds while the command runs: batches
 * a program left while the receiver turned it away, and what stopped runs with the same settings left.
 */
export function takeInSpool(spool: Spool, receiver: SpoolReceiver): SpoolIntake {
  const timer = setInterval(() => void spool.drain(receiver).catch(() => undefined), DRAIN_EVERY_MS).unref();
  return {
    async end(deadline, interrupt) {
      clearInterval(timer);
      while ((await spool.drain(receiver).catch(() => 1)) > 0 && Date.now() < deadline && !interrupt?.aborted) {
        await delay(RETRY_MS, undefined, interrupt && { signal: interrupt }).catch(() => undefined);
      }
      return spool.close();
    },
  };
}
