import { setTimeout as delay } from 'node:timers/promises';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { MlflowHttp, RawResponse } from '../mlflow/http.ts';
import { describeErrorBody } from '../mlflow/errors.ts';

export function groupByTrace(spans: readonly ReadableSpan[]): Map<string, ReadableSpan[]> {
  const traces = new Map<string, ReadableSpan[]>();
  for (const span of spans) {
    const traceId = span.spanContext().traceId;
    const group = traces.get(traceId);
    if (group) group.push(span);
    else traces.set(traceId, [span]);
  }
  return traces;
}

export interface SendOutcome {
  ok: boolean;
  status?: number;
  reason?: string;
}

/** Answers worth another try: the server or a proxy is busy, not refusing the trace. */
const RETRYABLE = new Set([429, 502, 503, 504]);
export const RETRY_DELAYS_MS = [250, 1000] as const;

/**
 * One export request with bounded retries on overload and network errors. Never throws: an export
 * problem is recorded, not raised into the application.
 */
export async function sendWithRetry(
  http: MlflowHttp,
  request: { method: 'POST' | 'PUT'; path: string; body?: Uint8Array | string; json?: unknown; headers?: Record<string, string>; auth?: boolean },
): Promise<SendOutcome & { response?: RawResponse }> {
  let last: SendOutcome = { ok: false, reason: 'not sent' };
  for (let attempt = 0; attempt <= RETRY_DELAYS_MS.length; attempt++) {
    if (attempt > 0) await delay(RETRY_DELAYS_MS[attempt - 1]);
    try {
      const response = await http.request<RawResponse>({ ...request, raw: true });
      if (response.status >= 200 && response.status < 300) return { ok: true, status: response.status, response };
      last = { ok: false, status: response.status, reason: describeErrorBody(response) };
      if (!RETRYABLE.has(response.status)) return last;
    } catch (error) {
      last = { ok: false, reason: error instanceof Error ? error.message : String(error) };
    }
  }
  return last;
}
