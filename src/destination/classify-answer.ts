import { isMlflowServerHeader, parseErrorBody } from '../http-client/error-body.ts';
import { describeErrorBody } from '../http-client/error-body.ts';
import { UnreachableError } from '../http-client/unreachable.ts';
import { MlflowApiError } from '../mlflow/errors.ts';
import { isRedirect } from '../http-client/redirect.ts';
import { parseRetryAfter } from '../http-client/retry-after.ts';
import type { RawResponse } from '../http-client/send.ts';
import { maskSentCredential } from '../http-client/redaction.ts';
import { maskSecrets } from '../config/configured-secrets.ts';
import { ExpectedError, errorMessage } from '../errors.ts';
import { isOtlpExportResponse } from '../otlp/otlp-export-response.ts';

/**
 * What one delivery request came to. `delivered`: the destination itself acknowledged it. `retry`:
 * nothing against the items (the server, a proxy or the credentials need time or a fix), so they wait
 * and go again. `refused`: the destination will not take this request as it is, and one item in it
 * may be the cause.
 */
export type DeliveryOutcome =
  | { kind: 'delivered'; status?: number; note?: string }
  /** `item`: only these items must wait (a score whose trace MLflow lacks yet); the destination is fine. */
  | { kind: 'retry'; status?: number; answer: string; retryAfterMs?: number; scope?: 'item' }
  | { kind: 'refused'; status?: number; answer: string };

/** What a success of this request looks like when the destination itself gives it. */
export type ExpectedAnswer =
  /** `/v1/traces` of MLflow, a Unity Catalog table or a collector: an OTLP export response. */
  | { kind: 'otlp' }
  /** MLflow's REST API: a JSON object, with `has` saying which field proves it is the answer. */
  | { kind: 'mlflow-json'; has?: (json: Record<string, unknown>) => boolean; what?: string }
  /** A signed-URL upload to cloud storage: any 2xx that is not a web page. */
  | { kind: 'storage' };

/**
 * MLflow's own refusals that say nothing against the items: the request's format or its experiment.
 * Splitting the request would only refuse every item alone, so they wait for the cause to be fixed.
 */
const DESTINATION_REFUSAL =
  /Invalid Content-Type|Invalid OpenTelemetry protobuf format|x-mlflow-experiment-id|No Experiment with id|Experiment ID must be|experiment .*(does not exist|not found|is deleted)|No row was found/i;

/** Status codes MLflow uses for a request it will not take as it is, where an item can be the cause. */
const ITEM_REFUSAL_STATUS = new Set([400, 422]);

/** Classifies an answer of `http.request({ raw: true })`. */
export function classifyAnswer(response: RawResponse, expected: ExpectedAnswer): DeliveryOutcome {
  const { status } = response;
  const contentType = response.headers.get('content-type') ?? '';
  // Never followed: a login proxy's redirect to its sign-in page once turned into "delivered".
  if (isRedirect(status)) return { kind: 'retry', status, answer: describeErrorBody(response) };
  if (status >= 200 && status < 300) return classifySuccess(response, contentType, expected);
  const body = parseErrorBody(status, response.text);
  const server = response.headers.get('server') ?? undefined;
  const code = body.errorCode ? ` ${body.errorCode}` : '';
  const answer = `HTTP ${status}${code}: ${maskSecrets(maskSentCredential(body.detail, response))}`;
  return classifyRefusal({
    status,
    detail: body.detail,
    fromMlflow: body.recognised || isMlflowServerHeader(server),
    server,
    answer,
    retryAfter: response.headers.get('retry-after'),
  });
}

/**
 * Classifies what the MLflow client threw for a request made without `raw` (runs, assessments,
 * lookups): the same rules, from the error's fields. Anything that is not a failed answer or a network
 * failure is a bug and is thrown on.
 */
export function classifyError(error: unknown): Exclude<DeliveryOutcome, { kind: 'delivered' }> {
  if (error instanceof UnreachableError) return { kind: 'retry', answer: error.message };
  if (error instanceof MlflowApiError) {
    if (error.status < 300)
      return {
        kind: 'retry',
        status: error.status,
        answer: `${error.message}: not MLflow's answer (a login page or a proxy in front of MLflow?)`,
      };
    if (error.status < 400) return { kind: 'retry', status: error.status, answer: error.message };
    return classifyRefusal({
      status: error.status,
      detail: error.detail,
      fromMlflow: !error.fromProxy,
      server: error.server,
      answer: error.message,
      retryAfter: null,
    });
  }
  if (error instanceof ExpectedError) return { kind: 'retry', answer: error.message };
  throw error;
}

/** No answer at all (refused connection, reset, DNS, timeout, an answer too large to read). */
export function classifyFailure(error: unknown): Extract<DeliveryOutcome, { kind: 'retry' }> {
  return { kind: 'retry', answer: errorMessage(error) };
}

interface Refusal {
  status: number;
  detail: string;
  /** MLflow's own answer, not a proxy's page. */
  fromMlflow: boolean;
  server: string | undefined;
  answer: string;
  retryAfter: string | null;
}

/**
 * Only MLflow's own refusal of what was sent (its error JSON on 400/422), or a body too large for
 * whoever answered 413, can be an item's fault: those requests are split until the item is alone.
 * Everything else, a proxy's page above all, leaves the items waiting with the reason.
 */
function classifyRefusal(refusal: Refusal): Exclude<DeliveryOutcome, { kind: 'delivered' }> {
  const { status, answer } = refusal;
  if (status === 413) return { kind: 'refused', status, answer };
  if (refusal.fromMlflow && ITEM_REFUSAL_STATUS.has(status) && !DESTINATION_REFUSAL.test(refusal.detail))
    return { kind: 'refused', status, answer };
  const retryAfterMs = parseRetryAfter(refusal.retryAfter);
  const why = refusal.fromMlflow
    ? answer
    : `${answer} (from ${refusal.server ? `a proxy, ${refusal.server}` : 'something in front of MLflow'}, not MLflow)`;
  return { kind: 'retry', status, answer: why, ...(retryAfterMs !== undefined && { retryAfterMs }) };
}

function classifySuccess(response: RawResponse, contentType: string, expected: ExpectedAnswer): DeliveryOutcome {
  const { status } = response;
  const notMlflow = (what: string): DeliveryOutcome => ({
    kind: 'retry',
    status,
    answer: `HTTP ${status} with ${what} instead of ${expected.kind === 'storage' ? 'the storage service’s answer' : "MLflow's answer"}: a login page or a proxy in front of MLflow?`,
  });
  if (/text\/html/i.test(contentType) || /^\s*</.test(response.text)) {
    const { detail } = parseErrorBody(status, response.text);
    return notMlflow(detail.startsWith('HTML page') ? `an ${detail}` : 'an HTML page');
  }
  switch (expected.kind) {
    case 'storage':
      return { kind: 'delivered', status };
    case 'otlp': {
      if (!/^application\/(x-protobuf|json)\b/i.test(contentType))
        return notMlflow(contentType ? `a ${contentType} body` : 'no Content-Type');
      const answer = isOtlpExportResponse(response.bytes, contentType);
      if (!answer) return notMlflow(`a body that is no OTLP export response (${describeBody(response)})`);
      return answer.rejected > 0
        ? {
            kind: 'delivered',
            status,
            note: `the destination dropped ${answer.rejected} span(s) as it took the rest: ${answer.message ?? 'no reason given'}`,
          }
        : { kind: 'delivered', status };
    }
    case 'mlflow-json': {
      const json = response.json;
      if (typeof json !== 'object' || json === null || Array.isArray(json))
        return notMlflow(response.text.trim() === '' ? 'an empty body' : `a body that is not JSON (${describeBody(response)})`);
      if (expected.has && !expected.has(json as Record<string, unknown>))
        return notMlflow(`JSON without ${expected.what ?? 'the expected fields'}`);
      return { kind: 'delivered', status };
    }
  }
}

function describeBody(response: RawResponse): string {
  const text = response.text.trim();
  return text === '' ? 'empty' : `${response.bytes.length} bytes: ${JSON.stringify(text.slice(0, 60))}${text.length > 60 ? '…' : ''}`;
}

/** The longest pause a server's hint can impose: a day-long Retry-After must not stop delivery for a day. */
export const MAX_SERVER_PAUSE_MS = 5 * 60_000;
