/** Time as the outbox sees it: injectable, so tests move it instead of waiting. */
export interface Clock {
  now(): number;
  /** Calls `run` after `ms`; such timers never keep the process alive. */
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(timer: unknown): void;
}

/** Node's timers take at most 2^31 - 1 ms; anything longer fires at once, with a warning, over and over. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function clampDelay(ms: number): number {
  return Number.isFinite(ms) ? Math.min(Math.max(0, Math.round(ms)), MAX_TIMER_MS) : MAX_TIMER_MS;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(run, ms) {
    const timer = setTimeout(run, clampDelay(ms));
    timer.unref();
    return timer;
  },
  clearTimeout(timer) {
    clearTimeout(timer as NodeJS.Timeout | undefined);
  },
};
