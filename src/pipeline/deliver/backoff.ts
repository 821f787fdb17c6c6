export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

const DEFAULT_POLICY: BackoffPolicy = { baseMs: 500, maxMs: 30_000 };

/**
 * The wait before try `failures + 1`: doubling from `baseMs` up to `maxMs`, with jitter (between half
 * and all of it) so that many processes coming back after an outage do not all arrive at once.
 */
export function backoffDelay(failures: number, random: () => number, policy: Partial<BackoffPolicy> = {}): number {
  const { baseMs, maxMs } = { ...DEFAULT_POLICY, ...policy };
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling * (0.5 + random() * 0.5));
}
