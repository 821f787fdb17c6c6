/** Milliseconds as people read them: ms below a second, then seconds. */
export function formatLatency(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 100_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 1000)} s`;
}
