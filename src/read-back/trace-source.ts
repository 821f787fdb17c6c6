import type { MlflowHttp } from '../mlflow/http.ts';
import { getDatabricksTraceSpans, getTraceInfo, getTraceSpans, type TraceInfo, type TraceSpan } from '../mlflow/traces.ts';

/** Where traces are read back from: MLflow's APIs, or the local store in local-only mode. */
export interface TraceSource {
  /** For messages: 'MLflow', 'the local store'. */
  name: string;
  info(traceId: string): Promise<TraceInfo | undefined>;
  /** The spans as MLflow's UI loads them; undefined when they cannot be read. */
  spans(traceId: string): Promise<TraceSpan[] | undefined>;
}

/** Info from `traces/{id}`, spans from the trace artifact (self-hosted) or its signed download (Databricks). */
export function mlflowTraceSource(http: MlflowHttp, spansFrom: 'mlflow' | 'databricks'): TraceSource {
  return {
    name: 'MLflow',
    info: (traceId) => getTraceInfo(http, traceId),
    spans: (traceId) => (spansFrom === 'databricks' ? getDatabricksTraceSpans(http, traceId) : getTraceSpans(http, traceId)),
  };
}
