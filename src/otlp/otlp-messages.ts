import protobuf from 'protobufjs';
import type { OtlpEncoding } from '../config/types.ts';

/**
 * The messages a receiver answers with: `ExportTraceServiceResponse` (opentelemetry-proto
 * `collector/trace/v1/trace_service.proto`) and `google.rpc.Status` with `google.rpc.RetryInfo`
 * (googleapis `google/rpc/status.proto`, `error_details.proto`), in protobuf or OTLP/JSON.
 */

const root = protobuf.Root.fromJSON({
  nested: {
    otlp: {
      nested: {
        ExportTracePartialSuccess: {
          fields: { rejectedSpans: { type: 'int64', id: 1 }, errorMessage: { type: 'string', id: 2 } },
        },
        ExportTraceServiceResponse: { fields: { partialSuccess: { type: 'ExportTracePartialSuccess', id: 1 } } },
        Any: { fields: { typeUrl: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } },
        Status: {
          fields: {
            code: { type: 'int32', id: 1 },
            message: { type: 'string', id: 2 },
            details: { rule: 'repeated', type: 'Any', id: 3 },
          },
        },
        Duration: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
        RetryInfo: { fields: { retryDelay: { type: 'Duration', id: 1 } } },
      },
    },
  },
});
export const exportResponseType = root.lookupType('otlp.ExportTraceServiceResponse');
const statusType = root.lookupType('otlp.Status');
const retryInfoType = root.lookupType('otlp.RetryInfo');

/** gRPC status codes (google.rpc.Code) that OTLP answers use. */
export const RpcCode = {
  invalidArgument: 3,
  resourceExhausted: 8,
  unimplemented: 12,
  internal: 13,
  unavailable: 14,
  unauthenticated: 16,
} as const;

export function encodeExportResponse(encoding: OtlpEncoding, partial: { rejected: number; errorMessage: string }): Buffer {
  // Per the spec a full success leaves partial_success unset.
  const hasPartial = partial.rejected > 0 || partial.errorMessage !== '';
  if (encoding === 'json') {
    const body = hasPartial ? { partialSuccess: { rejectedSpans: String(partial.rejected), errorMessage: partial.errorMessage } } : {};
    return Buffer.from(JSON.stringify(body));
  }
  const message = hasPartial ? { partialSuccess: { rejectedSpans: partial.rejected, errorMessage: partial.errorMessage } } : {};
  return Buffer.from(exportResponseType.encode(exportResponseType.fromObject(message)).finish());
}

/** A `google.rpc.Status`; with `retryAfterSeconds`, carrying a RetryInfo detail (protobuf only). */
export function encodeStatus(encoding: OtlpEncoding, code: number, message: string, retryAfterSeconds?: number): Buffer {
  if (encoding === 'json') return Buffer.from(JSON.stringify({ code, message }));
  const details =
    retryAfterSeconds === undefined
      ? []
      : [
          {
            typeUrl: 'type.googleapis.com/google.rpc.RetryInfo',
            value: retryInfoType.encode(retryInfoType.fromObject({ retryDelay: { seconds: retryAfterSeconds, nanos: 0 } })).finish(),
          },
        ];
  return Buffer.from(statusType.encode(statusType.fromObject({ code, message, details })).finish());
}
