import type { MlflowHttp } from '../../mlflow/http.ts';
import { toReadableSpans } from '../../spans/readable-spans.ts';
import { decodeTrace } from '../encoded-trace.ts';
import { buildRestTracePayload, type RestTraceInfo } from '../rest-trace-payload.ts';
import type { DeliveryOutcome } from '../classify-answer.ts';
import { mlflowStep, type StepResult } from './mlflow-step.ts';
import { findRegisteredTrace, startTrace } from './trace-registration.ts';
import type { OutgoingTrace, Sender } from '../sender.ts';

type Failed = Extract<StepResult, { ok: false }>;

export interface RestTarget {
  description: string;
  http: MlflowHttp;
  experimentId: string;
  /** Databricks stores traces.json in cloud storage behind a signed URL; self-hosted MLflow proxies artifacts. */
  artifactUpload: 'mlflow-artifacts' | 'databricks-signed-url';
  afterAccepted?(traces: readonly OutgoingTrace[]): Promise<DeliveryOutcome | undefined>;
}

/**
 * MLflow's REST trace logging (StartTraceV3, then traces.json), for Databricks experiments and for
 * servers without an OTLP route. One trace per request. A trace registered without its spans shows in
 * lists but cannot be opened, so it counts as delivered only once its spans are uploaded; a trace
 * tried before is looked up first, so a retry uploads the spans again instead of registering it twice.
 */
export function restSender(target: RestTarget): Sender<OutgoingTrace> {
  const { http } = target;
  return {
    description: target.description,
    maxItemsPerRequest: 1,
    maxBytesPerRequest: Number.POSITIVE_INFINITY,
    async send(traces) {
      const trace = traces[0]!;
      const payload = buildRestTracePayload(toReadableSpans(decodeTrace(trace.otlp)), target.experimentId);
      const registered = await register(http, trace, payload.startTraceBody.trace.trace_info);
      if (!registered.ok) return registered.outcome;
      const outcome =
        target.artifactUpload === 'databricks-signed-url'
          ? await uploadSigned(http, payload.traceId, payload.tracesJson)
          : await uploadProxied(http, registered.tags, payload.tracesJson);
      return (outcome.kind === 'delivered' && (await target.afterAccepted?.(traces))) || outcome;
    },
  };
}

/** The tags that say where its spans go, of the trace registered now or found registered by an earlier try. */
async function register(
  http: MlflowHttp,
  trace: OutgoingTrace,
  info: RestTraceInfo,
): Promise<{ ok: true; tags: Record<string, string> } | Failed> {
  if (trace.attempts > 0) {
    const found = await findRegisteredTrace(http, trace.traceId);
    if (!found.ok) return found;
    if (found.info) return { ok: true, tags: found.info.tags ?? {} };
  }
  const started = await startTrace(http, info);
  return started.ok ? { ok: true, tags: started.info.tags ?? {} } : started;
}

async function uploadProxied(http: MlflowHttp, tags: Record<string, string>, tracesJson: string): Promise<DeliveryOutcome> {
  const location = tags['mlflow.artifactLocation'];
  const prefix = 'mlflow-artifacts:/';
  if (!location?.startsWith(prefix)) {
    return {
      kind: 'refused',
      answer:
        `the server stores trace artifacts at ${location ?? '(no location)'}, which it does not proxy; ` +
        'start `mlflow server` with artifact serving on (the default, --serve-artifacts)',
    };
  }
  const path = `/api/2.0/mlflow-artifacts/artifacts/${location.slice(prefix.length).replace(/^\/+/, '')}/traces.json`;
  // The artifact proxy answers `{}`.
  const uploaded = await mlflowStep(
    http,
    { method: 'PUT', path, body: tracesJson, headers: { 'Content-Type': 'application/json' } },
    { kind: 'mlflow-json' },
    'uploading the spans (traces.json)',
  );
  return uploaded.ok ? { kind: 'delivered', status: uploaded.response.status } : uploaded.outcome;
}

async function uploadSigned(http: MlflowHttp, traceId: string, tracesJson: string): Promise<DeliveryOutcome> {
  const asked = await mlflowStep(
    http,
    { method: 'GET', path: `/api/2.0/mlflow/traces/${encodeURIComponent(traceId)}/credentials-for-data-upload` },
    {
      kind: 'mlflow-json',
      has: (json) => typeof (json as { credential_info?: { signed_uri?: unknown } }).credential_info?.signed_uri === 'string',
      what: 'a signed upload URL',
    },
    'asking for an upload URL',
  );
  if (!asked.ok) return asked.outcome;
  const credential = (asked.response.json as { credential_info: { signed_uri: string; headers?: { name: string; value: string }[] } })
    .credential_info;
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  for (const { name, value } of credential.headers ?? []) headers[name] = value;
  // Cloud storage authenticates by the signature; a workspace Authorization header would be refused.
  const uploaded = await mlflowStep(
    http,
    { method: 'PUT', path: credential.signed_uri, body: tracesJson, headers, auth: false },
    { kind: 'storage' },
    'uploading the spans (traces.json)',
  );
  return uploaded.ok ? { kind: 'delivered', status: uploaded.response.status } : uploaded.outcome;
}
