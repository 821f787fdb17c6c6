import type { HrTime } from '@opentelemetry/api';

/** An SDK time as exact nanoseconds (they exceed 2^53). */
export function hrToNanos([seconds, nanos]: HrTime): bigint {
  return BigInt(seconds) * 1_000_000_000n + BigInt(nanos);
}
