import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { Resource } from '@opentelemetry/resources';
import type { OtlpEncoding } from '../../config/types.ts';
import { EXPORT_MAX_RESPONSE_BYTES, type MlflowHttp } from '../../mlflow/http.ts';
import { toReadableSpans } from '../../spans/readable-spans.ts';
import { otlpAttributes } from '../../tracing/encode-attributes.ts';
import { withAttributes } from '../../spans/span-with-changes.ts';
import { classifyAnswer, classifyFailure, type DeliveryOutcome } from '../classify-answer.ts';
import { decodeTrace } from '../encoded-trace.ts';
import type { OutgoingTrace, Sender } from '../sender.ts';

const gzip = promisify(gzipCallback);

/**
 * Measured on real MLflow 3.14 (one worker): ingest rises from 45 traces/s at one trace per request
 * to 231/s at 200, so a request carries many traces, bounded so one request stays well under
 * proxies' body limits and MLflow's request timeout.
 */
const OTLP_MAX_TRACES_PER_REQUEST = 200;
const OTLP_MAX_BYTES_PER_REQUEST = 4 * 1024 * 1024;

export interface OtlpTarget {
  description: string;
  http: MlflowHttp;
  /** `/v1/traces` on MLflow, `/api/2.0/otel/v1/traces` for Unity Catalog, the full URL of a collector. */
  path: string;
  /** The routing header (`x-mlflow-experiment-id`, `X-Databricks-UC-Table-Name`) and any the user set. */
  headers: Record<string, string>;
  encoding: OtlpEncoding;
  /** Only where the server takes it: MLflow 3.6 answers 400 to a gzipped body. */
  gzip: boolean;
  /** False for a collector: its headers carry any credentials, and the MLflow client's must not reach it. */
  auth?: boolean;
  /** What must precede the request (registering sessions where ingest would not store them plain); a failure there is the request's. */
  beforeSend?(traces: readonly OutgoingTrace[]): Promise<DeliveryOutcome | undefined>;
  /** What must follow once the destination took the traces (linking them to a run); a failure there is theirs. */
  afterAccepted?(traces: readonly OutgoingTrace[]): Promise<DeliveryOutcome | undefined>;
}

/** OTLP/HTTP, many traces per request: MLflow, a Unity Catalog table, or any collector. */
export function otlpSender(target: OtlpTarget): Sender<OutgoingTrace> {
  return {
    description: target.description,
    maxItemsPerRequest: OTLP_MAX_TRACES_PER_REQUEST,
    maxBytesPerRequest: OTLP_MAX_BYTES_PER_REQUEST,
    async send(traces) {
      // Protobuf: the traces as they were encoded when stored, one after the other, is the request.
      const serialized = target.encoding === 'json' ? jsonRequest(traces) : Buffer.concat(traces.map((trace) => trace.otlp));
      // An empty body would be taken as a success that carried nothing: never sent, never "delivered".
      if (!serialized || serialized.length === 0)
        return { kind: 'refused', answer: `the OTLP serializer produced nothing for ${traces.length} trace(s)` };
      const headers: Record<string, string> = {
        ...target.headers,
        // Exactly this: MLflow up to 3.11 answers 400 to `application/x-protobuf; charset=…`.
        'Content-Type': target.encoding === 'json' ? 'application/json' : 'application/x-protobuf',
      };
      const before = await target.beforeSend?.(traces);
      if (before) return before;
      let body: Uint8Array = serialized;
      if (target.gzip) {
        body = await gzip(body);
        headers['Content-Encoding'] = 'gzip';
      }
      let outcome: DeliveryOutcome;
      try {
        const response = await target.http.request({
          method: 'POST',
          path: target.path,
          body,
          headers,
          raw: true,
          maxResponseBytes: EXPORT_MAX_RESPONSE_BYTES,
          ...(target.auth === false && { auth: false }),
        });
        outcome = classifyAnswer(response, { kind: 'otlp' });
      } catch (error) {
        return classifyFailure(error);
      }
      return (outcome.kind === 'delivered' && (await target.afterAccepted?.(traces))) || outcome;
    },
  };
}

/** OTLP/JSON, which a user may choose: the stored traces decoded and serialized as JSON. */
function jsonRequest(traces: readonly OutgoingTrace[]): Uint8Array | undefined {
  const resources = new Map<string, Resource>();
  // mlflow.traceRequestId must never reach MLflow over OTLP; object values go structured.
  const spans = traces.flatMap((trace) =>
    toReadableSpans(decodeTrace(trace.otlp), resources).map((span) => withAttributes(span, otlpAttributes(span.attributes))),
  );
  return JsonTraceSerializer.serializeRequest(spans);
}
