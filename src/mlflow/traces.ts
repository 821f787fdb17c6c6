import { ExitCode, ExpectedError } from '../errors.ts';
import { MlflowApiError, undefinedIfMissing } from './errors.ts';
import { ARTIFACT_MAX_RESPONSE_BYTES, type MlflowHttp } from './http.ts';
import { decodeTraceArtifact, type TraceSpan } from './trace-artifact.ts';

export type { TraceSpan } from './trace-artifact.ts';

export interface TraceInfo {
  traceId: string;
  experimentId?: string;
  /** RFC 3339. */
  requestTime?: string;
  /** Protobuf duration text, e.g. `0.008s`. */
  executionDuration?: string;
  state: 'OK' | 'ERROR' | 'IN_PROGRESS' | 'STATE_UNSPECIFIED' | (string & {});
  requestPreview?: string;
  responsePreview?: string;
  metadata: Record<string, string>;
  tags: Record<string, string>;
}

/** TraceInfoV3 as MLflow serialises it (snake_case, empty fields left out). */
interface TraceInfoJson {
  trace_id?: string;
  trace_location?: { mlflow_experiment?: { experiment_id?: string } };
  request_time?: string;
  execution_duration?: string;
  state?: string;
  request_preview?: string;
  response_preview?: string;
  trace_metadata?: Record<string, string>;
  tags?: Record<string, string>;
}

export interface TraceSearch {
  experimentIds: string[];
  /** e.g. ``tag.`team` = 'search' AND trace.status = 'OK'``. */
  filter?: string;
  maxResults?: number;
  /** e.g. `['timestamp_ms DESC']`. */
  orderBy?: string[];
  /** `nextPageToken` of the previous page, passed back as is. */
  pageToken?: string;
}

/** `GET /api/3.0/mlflow/traces/{id}`; undefined when the server does not know the trace. */
export async function getTraceInfo(http: MlflowHttp, traceId: string): Promise<TraceInfo | undefined> {
  return undefinedIfMissing(async () => {
    const answer = await http.request<{ trace?: { trace_info?: TraceInfoJson } }>({
      method: 'GET',
      path: `/api/3.0/mlflow/traces/${encodeURIComponent(traceId)}`,
    });
    return toTraceInfo(answer.trace?.trace_info ?? {});
  });
}

export async function searchTraces(http: MlflowHttp, q: TraceSearch): Promise<{ traces: TraceInfo[]; nextPageToken?: string }> {
  const answer = await http.request<{ traces?: TraceInfoJson[]; next_page_token?: string }>({
    method: 'POST',
    path: '/api/3.0/mlflow/traces/search',
    json: {
      locations: q.experimentIds.map((id) => ({ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: id } })),
      ...(q.filter ? { filter: q.filter } : {}),
      ...(q.maxResults !== undefined ? { max_results: q.maxResults } : {}),
      ...(q.orderBy ? { order_by: q.orderBy } : {}),
      ...(q.pageToken ? { page_token: q.pageToken } : {}),
    },
  });
  // No hits answers `{}`.
  const traces = (answer.traces ?? []).map(toTraceInfo);
  return answer.next_page_token ? { traces, nextPageToken: answer.next_page_token } : { traces };
}

/**
 * The spans as MLflow's UI loads them: works for OTLP- and REST-logged traces alike (the
 * `/api/3.0/mlflow/traces/get` route serves OTLP-ingested spans only). Undefined when the trace or
 * its spans file is missing.
 */
export async function getTraceSpans(http: MlflowHttp, traceId: string): Promise<TraceSpan[] | undefined> {
  const file = await undefinedIfMissing(() =>
    http.request({
      method: 'GET',
      path: '/ajax-api/2.0/mlflow/get-trace-artifact',
      query: { request_id: traceId },
      maxResponseBytes: ARTIFACT_MAX_RESPONSE_BYTES,
    }),
  );
  return file === undefined ? undefined : decodeTraceArtifact(file, traceId);
}

interface DownloadCredentials {
  credential_info?: { signed_uri?: string; headers?: { name: string; value: string }[] };
}

/** Databricks keeps traces.json in cloud storage: ask for a signed URL, then fetch it without our credentials. */
export async function getDatabricksTraceSpans(http: MlflowHttp, traceId: string): Promise<TraceSpan[] | undefined> {
  const credentials = await undefinedIfMissing(() =>
    http.request<DownloadCredentials>({
      method: 'GET',
      path: `/api/2.0/mlflow/traces/${encodeURIComponent(traceId)}/credentials-for-data-download`,
    }),
  );
  const signedUri = credentials?.credential_info?.signed_uri;
  if (!signedUri) return undefined;
  const headers = Object.fromEntries((credentials?.credential_info?.headers ?? []).map((h) => [h.name, h.value]));
  try {
    const file = await http.request({
      method: 'GET',
      path: signedUri,
      headers,
      auth: false,
      maxResponseBytes: ARTIFACT_MAX_RESPONSE_BYTES,
    });
    return decodeTraceArtifact(file, traceId);
  } catch (error) {
    if (!(error instanceof MlflowApiError)) throw error;
    // Cloud storage answers a missing object with its own (XML) 404, not MLflow's JSON.
    if (error.status === 404) return undefined;
    const code = error.errorCode ? ` ${error.errorCode}` : '';
    throw new ExpectedError(`Downloading the spans of ${traceId} from cloud storage failed: HTTP ${error.status}${code}: ${error.detail}`, {
      exitCode: ExitCode.readback,
      hint: 'Signed URLs expire within minutes: retry. If it persists, the workspace cannot reach its own storage; check its storage settings.',
      cause: error,
    });
  }
}

/** MLflow's trace id for an OTel trace id: `tr-` + its 32 lowercase hex digits. */
export function toMlflowTraceId(otelTraceIdHex: string): string {
  if (!/^[0-9a-f]{32}$/i.test(otelTraceIdHex)) {
    throw new TypeError(`Not an OpenTelemetry trace id (32 hex digits): ${JSON.stringify(otelTraceIdHex)}`);
  }
  return `tr-${otelTraceIdHex.toLowerCase()}`;
}

function toTraceInfo(json: TraceInfoJson): TraceInfo {
  const experimentId = json.trace_location?.mlflow_experiment?.experiment_id;
  return {
    traceId: json.trace_id ?? '',
    ...(experimentId ? { experimentId } : {}),
    ...(json.request_time ? { requestTime: json.request_time } : {}),
    ...(json.execution_duration ? { executionDuration: json.execution_duration } : {}),
    state: json.state ?? 'STATE_UNSPECIFIED',
    ...(json.request_preview !== undefined ? { requestPreview: json.request_preview } : {}),
    ...(json.response_preview !== undefined ? { responsePreview: json.response_preview } : {}),
    metadata: json.trace_metadata ?? {},
    tags: json.tags ?? {},
  };
}
