import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { MlflowHttp } from '../mlflow/http.ts';
import type { ExportLedger } from './export-ledger.ts';
import { buildRestTracePayload } from './rest-trace-payload.ts';
import { PerTraceExporter } from './per-trace-exporter.ts';
import { linkIfAccepted, type RunLink } from './run-link.ts';
import { sendWithRetry, type SendOutcome } from './send-trace.ts';

export interface RestTraceTarget {
  http: MlflowHttp;
  experimentId: string;
  /** Databricks stores traces.json in cloud storage behind a signed URL; self-hosted MLflow proxies artifacts. */
  artifactUpload: 'mlflow-artifacts' | 'databricks-signed-url';
  ledger: ExportLedger;
  runLink?: RunLink;
}

/**
 * MLflow's REST trace logging (StartTraceV3, then traces.json), for Databricks experiments and for
 * servers without an OTLP route (file store, old versions). A trace registered without its spans
 * shows in lists but cannot be opened, so a failed upload counts as a failed export.
 */
export class RestTraceExporter extends PerTraceExporter {
  readonly #target: RestTraceTarget;

  constructor(target: RestTraceTarget) {
    super();
    this.#target = target;
  }

  protected async exportTrace(spans: ReadableSpan[]): Promise<boolean> {
    const target = this.#target;
    const payload = buildRestTracePayload(spans, target.experimentId);
    const sent = await this.#send(payload.traceId, payload.startTraceBody, payload.tracesJson);
    const outcome = await linkIfAccepted(sent, target.http, target.runLink, [payload.traceId]);
    target.ledger.record({ traceId: payload.traceId, route: 'rest', spanCount: spans.length, ...outcome });
    return outcome.ok;
  }

  async #send(traceId: string, startTraceBody: unknown, tracesJson: string): Promise<SendOutcome> {
    const { http } = this.#target;
    const started = await sendWithRetry(http, { method: 'POST', path: '/api/3.0/mlflow/traces', json: startTraceBody });
    if (!started.ok) return { ...started, reason: `registering the trace failed: ${started.reason}` };

    const upload =
      this.#target.artifactUpload === 'databricks-signed-url'
        ? await this.#uploadSigned(traceId, tracesJson)
        : await this.#uploadProxied(started.response?.json, tracesJson);
    return upload.ok ? upload : { ...upload, reason: `uploading the spans (traces.json) failed: ${upload.reason}` };
  }

  async #uploadProxied(startAnswer: unknown, tracesJson: string): Promise<SendOutcome> {
    const tags = (startAnswer as { trace?: { trace_info?: { tags?: Record<string, string> } } } | undefined)?.trace
      ?.trace_info?.tags;
    const location = tags?.['mlflow.artifactLocation'];
    const prefix = 'mlflow-artifacts:/';
    if (!location?.startsWith(prefix)) {
      return {
        ok: false,
        reason:
          `the server stores trace artifacts at ${location ?? '(no location)'}, which it does not proxy; ` +
          'start `mlflow server` with artifact serving on (the default, --serve-artifacts)',
      };
    }
    const path = `/api/2.0/mlflow-artifacts/artifacts/${location.slice(prefix.length).replace(/^\/+/, '')}/traces.json`;
    return sendWithRetry(this.#target.http, {
      method: 'PUT',
      path,
      body: tracesJson,
      headers: { 'Content-Type': 'application/json' },
    });
  }

  async #uploadSigned(traceId: string, tracesJson: string): Promise<SendOutcome> {
    const { http } = this.#target;
    let credential: { signed_uri?: string; headers?: { name: string; value: string }[] } | undefined;
    try {
      const answer = await http.request<{ credential_info?: typeof credential }>({
        method: 'GET',
        path: `/api/2.0/mlflow/traces/${encodeURIComponent(traceId)}/credentials-for-data-upload`,
      });
      credential = answer.credential_info;
    } catch (error) {
      return { ok: false, reason: error instanceof Error ? error.message : String(error) };
    }
    if (!credential?.signed_uri) return { ok: false, reason: 'Databricks returned no signed upload URL' };
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    for (const { name, value } of credential.headers ?? []) headers[name] = value;
    // Cloud storage authenticates by the signature; a workspace Authorization header would be refused.
    return sendWithRetry(http, { method: 'PUT', path: credential.signed_uri, body: tracesJson, headers, auth: false });
  }
}
