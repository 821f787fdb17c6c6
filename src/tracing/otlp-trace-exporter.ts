import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { MlflowHttp } from '../mlflow/http.ts';
import type { OtlpEncoding } from '../config/types.ts';
import { otlpAttributes } from './encode-attributes.ts';
import { withAttributes } from './span-with-attributes.ts';
import type { ExportLedger, ExportRoute } from './export-ledger.ts';
import { PerTraceExporter } from './per-trace-exporter.ts';
import { linkIfAccepted, type RunLink } from './run-link.ts';
import { sendWithRetry } from './send-trace.ts';
import { mlflowTraceId } from './trace-id.ts';

const gzip = promisify(gzipCallback);

export interface OtlpTraceTarget {
  http: MlflowHttp;
  /** `/v1/traces` on MLflow, `/api/2.0/otel/v1/traces` for Databricks Unity Catalog tables. */
  path: string;
  /** The routing header: `x-mlflow-experiment-id` or `X-Databricks-UC-Table-Name`. */
  headers: Record<string, string>;
  encoding: OtlpEncoding;
  /** Only where the server takes it: MLflow 3.6 answers 400 to a gzipped body. */
  gzip: boolean;
  route: Extract<ExportRoute, 'otlp' | 'uc'>;
  ledger: ExportLedger;
  /** Where the routing header cannot link the traces to a run, they are linked once accepted. */
  runLink?: RunLink;
}

/**
 * OTLP/HTTP to MLflow (or a Databricks UC table), one trace per request: MLflow has no partial success,
 * so a request per trace makes every refusal attributable to one trace and keeps a bad span from
 * taking other traces with it (3.11+ reject a whole request for one bad trace).
 */
export class OtlpTraceExporter extends PerTraceExporter {
  readonly #target: OtlpTraceTarget;

  constructor(target: OtlpTraceTarget) {
    super();
    this.#target = target;
  }

  protected async exportTrace(spans: ReadableSpan[]): Promise<boolean> {
    const target = this.#target;
    const traceId = mlflowTraceId(spans[0]!.spanContext().traceId);
    // mlflow.traceRequestId must never reach MLflow over OTLP.
    const wire = spans.map((span) => withAttributes(span, otlpAttributes(span.attributes)));
    const serialized =
      target.encoding === 'json'
        ? JsonTraceSerializer.serializeRequest(wire)
        : ProtobufTraceSerializer.serializeRequest(wire);
    const headers: Record<string, string> = {
      ...target.headers,
      // Exactly this: MLflow up to 3.11 answers 400 to `application/x-protobuf; charset=…`.
      'Content-Type': target.encoding === 'json' ? 'application/json' : 'application/x-protobuf',
    };
    let body = serialized ?? new Uint8Array();
    if (target.gzip) {
      body = await gzip(body);
      headers['Content-Encoding'] = 'gzip';
    }
    const sent = await sendWithRetry(target.http, { method: 'POST', path: target.path, body, headers });
    const outcome = await linkIfAccepted(sent, target.http, target.runLink, [traceId]);
    target.ledger.record({ traceId, route: target.route, spanCount: spans.length, ...outcome });
    return outcome.ok;
  }
}
