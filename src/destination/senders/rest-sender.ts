import type { MlflowHttp, MlflowRequest, RawResponse } from '../../mlflow/http.ts';
import { toReadableSpans } from '../../spans/readable-spans.ts';
import { buildRestTracePayload } from '../rest-trace-payload.ts';
import { classifyAnswer, classifyFailure, type DeliveryOutcome, type ExpectedAnswer } from '../classify-answer.ts';
import { mlflowStep, type StepResult } from './mlflow-step.ts';
import type { OutgoingTrace, Sender } from '../sender.ts';

export interface RestTarget {
  description: string;
  http: MlflowHttp;
  experimentId: string;
  /** Databricks stores traces.json in cloud storage behind a signed URL; self-hosted MLflow proxies artifacts. */
  artifactUpload: 'mlflow-artifacts' | 'databricks-signed-url';
  afterAccepted?(traces: readonly OutgoingTrace[]): Promise<DeliveryOutcome | undefined>;
}

type Failed = Extract<StepResult, { ok: false }>;

type TraceInfoAnswer = { trace?: { trace_info?: { trace_id?: unknown; tags?: Record<string, string> } } };

/** StartTraceV3 and the trace lookup answer `{"trace": {"trace_info": {...}}}` for this very trace. */
function traceInfoOf(traceId: string): ExpectedAnswer {
  return {
    kind: 'mlflow-json',
    has: (json) => (json as TraceInfoAnswer).trace?.trace_info?.trace_id === traceId,
    what: `the trace info of ${traceId}`,
  };
}

/**
 * MLflow's REST trace logging (StartTraceV3, then traces.json), for Databricks experiments and for
 * servers without an OTLP route. One trace per request. A trace registered without its spans shows in
 * lists but cannot be opened, so it counts as delivered only once its spans are uploaded; a trace
 * tried before is looked up first, so a retry uploads the spans again instead of registering it twice.
 */
export function restSender(target: RestTarget): Sender<OutgoingTrace> {
  const { http } = target;

  const step = (request: MlflowRequest, expected: ExpectedAnswer, what: string) => mlflowStep(http, request, expected, what);

  /** The trace registered (or found registered by an earlier try) and the tags that say where its spans go. */
  const register = async (trace: OutgoingTrace, startTraceBody: unknown): Promise<{ ok: true; tags: Record<string, string> } | Failed> => {
    if (trace.attempts > 0) {
      const path = `/api/3.0/mlflow/traces/${encodeURIComponent(trace.traceId)}`;
      let known: RawResponse;
      try {
        known = await http.request({ method: 'GET', path, raw: true });
      } catch (error) {
        return { ok: false, outcome: { ...classifyFailure(error), answer: `looking the trace up failed: ${(error as Error).message}` } };
      }
      const unknown = known.status === 404 && (known.json as { error_code?: unknown } | undefined)?.error_code === 'RESOURCE_DOES_NOT_EXIST';
      if (!unknown) {
        const outcome = classifyAnswer(known, traceInfoOf(trace.traceId));
        if (outcome.kind === 'delivered') return { ok: true, tags: (known.json as TraceInfoAnswer).trace?.trace_info?.tags ?? {} };
        // Whatever the lookup met, it says nothing against the trace.
        return { ok: false, outcome: { kind: 'retry', status: known.status, answer: `looking the trace up failed: ${outcome.answer}` } };
      }
    }
    const started = await step({ method: 'POST', path: '/api/3.0/mlflow/traces', json: startTraceBody }, traceInfoOf(trace.traceId), 'registering the trace');
    if (!started.ok) return started;
    return { ok: true, tags: (started.response.json as TraceInfoAnswer).trace?.trace_info?.tags ?? {} };
  };

  const uploadProxied = async (tags: Record<string, string>, tracesJson: string): Promise<DeliveryOutcome> => {
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
    const uploaded = await step({ method: 'PUT', path, body: tracesJson, headers: { 'Content-Type': 'application/json' } }, { kind: 'mlflow-json' }, 'uploading the spans (traces.json)');
    return uploaded.ok ? { kind: 'delivered', status: uploaded.response.status } : uploaded.outcome;
  };

  const uploadSigned = async (traceId: string, tracesJson: string): Promise<DeliveryOutcome> => {
    const asked = await step(
      { method: 'GET', path: `/api/2.0/mlflow/traces/${encodeURIComponent(traceId)}/credentials-for-data-upload` },
      { kind: 'mlflow-json', has: (json) => typeof (json as { credential_info?: { signed_uri?: unknown } }).credential_info?.signed_uri === 'string', what: 'a signed upload URL' },
      'asking for an upload URL',
    );
    if (!asked.ok) return asked.outcome;
    const credential = (asked.response.json as { credential_info: { signed_uri: string; headers?: { name: string; value: string }[] } }).credential_info;
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    for (const { name, value } of credential.headers ?? []) headers[name] = value;
    // Cloud storage authenticates by the signature; a workspace Authorization header would be refused.
    const uploaded = await step({ method: 'PUT', path: credential.signed_uri, body: tracesJson, headers, auth: false }, { kind: 'storage' }, 'uploading the spans (traces.json)');
    return uploaded.ok ? { kind: 'delivered', status: uploaded.response.status } : uploaded.outcome;
  };

  return {
    description: target.description,
    maxItemsPerRequest: 1,
    maxBytesPerRequest: Number.POSITIVE_INFINITY,
    async send(traces) {
      const trace = traces[0]!;
      const payload = buildRestTracePayload(toReadableSpans(trace.spans), target.experimentId);
      const registered = await register(trace, payload.startTraceBody);
      if (!registered.ok) return registered.outcome;
      const outcome =
        target.artifactUpload === 'databricks-signed-url'
          ? await uploadSigned(payload.traceId, payload.tracesJson)
          : await uploadProxied(registered.tags, payload.tracesJson);
      return (outcome.kind === 'delivered' && (await target.afterAccepted?.(traces))) || outcome;
    },
  };
}
