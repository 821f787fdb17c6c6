import { setTimeout as delay } from 'node:timers/promises';

const POLL_INTERVALS_MS = [100, 250, 500, 1000] as const;

/**
 * Reads until `settled` says what was read is final, or the next read would pass the deadline;
 * answers the last read. A trace the server has not finished ingesting is no proof yet that it
 * landed, so doctor and `suite --verify` both wait this way.
 */
export async function pollUntil<T>(
  read: () => Promise<T>,
  settled: (value: T) => boolean,
  deadline: number,
  now: () => number = Date.now,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const value = await read();
    if (settled(value)) return value;
    const wait = POLL_INTERVALS_MS[Math.min(attempt, POLL_INTERVALS_MS.length - 1)]!;
    if (now() + wait > deadline) return value;
    await delay(wait);
  }
}
