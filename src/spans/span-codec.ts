import type { HrTime } from '@opentelemetry/api';

/** A decimal nanosecond count (LocalSpan's times) as the HrTime the SDK would hold, without a BigInt. */
export function decimalNanosToHr(nanos: string): HrTime {
  return nanos.length > 9 ? [Number(nanos.slice(0, -9)), Number(nanos.slice(-9))] : [0, Number(nanos)];
}

/** An SDK time as exact nanoseconds (they exceed 2^53). */
export function hrToNanos([seconds, nanos]: HrTime): bigint {
  return BigInt(seconds) * 1_000_000_000n + BigInt(nanos);
}
