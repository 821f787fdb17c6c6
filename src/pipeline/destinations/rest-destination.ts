import type { MlflowHttp, RawResponse } from '../../mlflow/http.ts';
import { MlflowApiError } from '../../mlflow/errors.ts';
import { getTraceInfo } from '../../mlflow/traces.ts';
import { buildRestTracePayload } from '../../tracing/rest-trace-payload.ts';
import { classifyAnswer, classifyFailure } from '../deliver/classify-answer.ts';
import { toReadableSpans } from '../store/readable-spans.ts';
import type { ClaimedTrace } from '../store/trace-store.ts';
import type { DeliveryOutcome, Destination } from './destination.ts';

export interface RestTarget {
  key: string;
  description: string;
  http: MlflowHttp;
  experimentId: string;
  /** Databricks stores traces.json in cloud storage behind a signed URL; self-hosted MLflow proxies artifacts. */
  artifactUpload: 'mlflow-artifacts' | 'databricks-signed-url';
  afterDelivered?: Destination['afterDelivered'];
}

/** Outcomes of the steps before the last: stop at the first that did not succeed. */
type Failed = { ok: false; outcome: DeliveryOutcome };
type Step = { ok: true; response: RawResponse } | Failed;

/**
 * MLflow's REST trace logging (StartTraceV3, then traces.json), for Databricks experiments and for
 * servers without an OTLP route. One trace per request. A trace registered without its spans shows in
 * lists but cannot be opened, so it counts as delivered only once its spans are uploaded; a trace
 * tried before is looked up first, so a retry uploads the spans again instead of registering it twice.
 */
export function restDestination(target: RestTarget): Destination {
  const { http } = target;

  const step = async (request: Parameters<MlflowHttp['request']>[0], what: string): Promise<Step> => {
    try {
      const response = await http.request({ ...request, raw: true });
      const outcome = classifyAnswer(response);
      if (outcome.kind === 'delivered') return { ok: true, response };
      return { ok: false, outcome: { ...outcome, answer: `${what} failed: ${outcome.answer}` } };
    } catch (error) {
      const outcome = classifyFailure(error);
      return { ok: false, outcome: { ...outcome, answer: `${what} failed: ${outcome.answer}` } };
    }
  };

  /** The trace registered (or found registered by an earlier try) and the tags that say where its spans go. */
  const register = async (trace: ClaimedTrace, startTraceBody: unknown): Promise<{ ok: true; tags: Record<string, string> } | Failed> => {
    if (trace.attempts > 0) {
      try {
        const known = await getTraceInfo(http, trace.traceId);
        if (known) return { ok: true, tags: known.tags };
      } catch (error) {
        const status = error instanceof MlflowApiError ? error.status : undefined;
        return { ok: false, outcome: { kind: 'retry', answer: `looking the trace up failed: ${(error as Error).message}`, ...(status && { status }) } };
      }
    }
    const started = await step({ method: 'POST', path: '/api/3.0/mlflow/traces', json: startTraceBody }, 'registering the trace');
    if (!started.ok) return started;
    const tags = (started.response.json as { trace?: { trace_info?: { tags?: Record<string, string> } } } | undefined)?.trace?.trace_info?.tags;
    return { ok: true, tags: tags ?? {} };
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
    const uploaded = await step({ method: 'PUT', path, body: tracesJson, headers: { 'Content-Type': 'application/json' } }, 'uploading the spans (traces.json)');
    return uploaded.ok ? { kind: 'delivered', status: uploaded.response.status } : uploaded.outcome;
  };

  const uploadSigned = async (traceId: string, tracesJson: string): Promise<DeliveryOutcome> => {
    const asked = await step(
      { method: 'GET', path: `/api/2.0/mlflow/traces/${encodeURIComponent(traceId)}/credentials-for-data-upload` },
      'asking for an upload URL',
    );
    if (!asked.ok) return asked.outcome;
    const credential = (asked.response.json as { credential_info?: { signed_uri?: string; headers?: { name: string; value: string }[] } })
      ?.credential_info;
    if (!credential?.signed_uri) return { kind: 'retry', answer: 'Databricks returned no signed upload URL' };
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    for (const { name, value } of credential.headers ?? []) headers[name] = value;
    // Cloud storage authenticates by the signature; a workspace Authorization header would be refused.
    const uploaded = await step(
      { method: 'PUT', path: credential.signed_uri, body: tracesJson, headers, auth: false },
      'uploading the spans (traces.json)',
    );
    return uploaded.ok ? { kind: 'delivered', status: uploaded.response.status } : uploaded.outcome;
  };

  return {
    key: target.key,
    description: target.description,
    maxTracesPerRequest: 1,
    maxBytesPerRequest: Number.POSITIVE_INFINITY,
    ...(target.afterDelivered && { afterDelivered: target.afterDelivered }),
    async send(traces: readonly ClaimedTrace[]): Promise<DeliveryOutcome> {
      const trace = traces[0]!;
      const payload = buildRestTracePayload(toReadableSpans(trace.spans), target.experimentId);
      const registered = await register(trace, payload.startTraceBody);
      if (!registered.ok) return registered.outcome;
      return target.artifactUpload === 'databricks-signed-url'
        ? uploadSigned(payload.traceId, payload.tracesJson)
        : uploadProxied(registered.tags, payload.tracesJson);
    },
  };
}
