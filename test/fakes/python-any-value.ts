import type { OtlpAnyValue } from '../../src/otlp/otlp-decode.ts';

/** An OTLP value as the JS value Python's `_decode_otel_proto_anyvalue` would give. */
export function anyValueToJs(value: OtlpAnyValue): unknown {
  switch (value.kind) {
    case 'string':
    case 'bool':
    case 'double':
      return value.value;
    case 'int':
      return value.value >= BigInt(Number.MIN_SAFE_INTEGER) && value.value <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(value.value)
        : value.value;
    case 'bytes':
      return value.value;
    case 'array':
      return value.values.map(anyValueToJs);
    case 'kvlist':
      return Object.fromEntries(value.values.map((kv) => [kv.key, anyValueToJs(kv.value)]));
    case 'empty':
      return null;
  }
}
