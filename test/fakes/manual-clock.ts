import { clampDelay, type Clock } from '../../src/util/clock.ts';

/**
 * A clock that moves only when the test says so: a five-minute pause is tested by advancing five
 * minutes, not by waiting them, and nothing depends on the machine's load.
 */
export class ManualClock implements Clock {
  #now: number;
  #next = 0;
  readonly #timers = new Map<number, { at: number; run: () => void }>();

  constructor(start = Date.now()) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(run: () => void, ms: number): number {
    const id = ++this.#next;
    this.#timers.set(id, { at: this.#now + clampDelay(ms), run });
    return id;
  }

  clearTimeout(timer: unknown): void {
    this.#timers.delete(timer as number);
  }

  /** The delays of the timers waiting now, soonest first. */
  waiting(): number[] {
    return [...this.#timers.values()].map((timer) => timer.at - this.#now).sort((a, b) => a - b);
  }

  /** Moves time on, running every timer that falls due, in order (timers they set included). */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const due = [...this.#timers.entries()].filter(([, timer]) => timer.at <= end).sort(([, a], [, b]) => a.at - b.at)[0];
      if (!due) break;
      const [id, timer] = due;
      this.#timers.delete(id);
      this.#now = Math.max(this.#now, timer.at);
      timer.run();
    }
    this.#now = end;
  }
}
