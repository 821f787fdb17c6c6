/** Why a fetch got no HTTP answer, in words: undici hides the socket error in `cause`. */
export function describeFetchFailure(error: unknown, origin: string, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === 'TimeoutError') {
    return `no answer from ${origin} within ${Math.round(timeoutMs / 1000)} s`;
  }
  const cause = error instanceof Error ? (error.cause as NodeJS.ErrnoException | undefined) : undefined;
  if (cause?.code === 'ECONNREFUSED') return `nothing is listening at ${origin} (connection refused)`;
  if (cause?.code) return `cannot reach ${origin}: ${cause.message || cause.code}`;
  return `cannot reach ${origin}: ${error instanceof Error ? error.message : String(error)}`;
}
