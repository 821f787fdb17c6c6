import { setTimeout as delay } from 'node:timers/promises';

/**
 * Waits until `condition` holds, looking every `everyMs`. The deadline only bounds a failure: a
 * passing test waits exactly as long as the code under test takes.
 */
export async function until(condition: () => boolean, what: string, { deadlineMs = 30_000, everyMs = 50 } = {}): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await delay(everyMs);
  }
}
