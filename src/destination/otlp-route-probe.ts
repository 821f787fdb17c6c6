import { randomBytes } from 'node:crypto';
import { SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { describeErrorBody } from '../http-client/error-body.ts';
import type { RawResponse } from '../http-client/send.ts';
import { MlflowApiError } from '../mlflow/errors.ts';
import type { MlflowHttp } from '../mlflow/http.ts';
import { isRedirect } from '../http-client/redirect.ts';
import { encodeSpans } from '../otlp/otlp-encode.ts';

export type OtlpRouteProbe =
  | { available: true }
  | { available: false; status: number; reason: string; cause: 'file-store' | 'no-route' | 'other' };

/** Answers that mean "not now": a gateway without its upstream, a server overloaded or restarting, a timeout. */
const TRY_AGAIN_LATER = new Set([408, 429, 502, 503, 504]);

/**
 * Finds out whether the server takes OTLP without storing anything. `GET /v1/traces` answers Flask's
 * 404 page even where the POST route exists, and an empty body is refused with 400 before the store
 * is asked (so a file store looks fine). One real span addressed to an experiment that does not exist
 * reaches the store: a database store refuses the experiment (404/422), a file store answers 501,
 * a server without the route answers its HTML 404 page.
 */
export async function probeOtlpRoute(http: MlflowHttp): Promise<OtlpRouteProbe> {
  const body = encodeSpans([probeSpan()]);
  const response = await http.request({
    method: 'POST',
    path: '/v1/traces',
    body,
    headers: { 'Content-Type': 'application/x-protobuf', 'x-mlflow-experiment-id': absentExperimentId() },
    raw: true,
  });
  // A redirect (a login proxy, http → https) is not the route's answer; each needs the user to act.
  // A busy, restarting or timed-out server says nothing about the route either: asked again later,
  // rather than taken for one without OTLP for the rest of the process's life.
  if (response.status === 401 || response.status === 403 || isRedirect(response.status) || TRY_AGAIN_LATER.has(response.status)) {
    throw MlflowApiError.fromResponse('POST', '/v1/traces', response);
  }
  if (response.status === 501) return unavailable(response, 'file-store');
  if ((response.status === 404 || response.status === 405) && response.json === undefined) {
    return unavailable(response, 'no-route');
  }
  if (response.status >= 500) return unavailable(response, 'other');
  return { available: true };
}

function unavailable(response: RawResponse, cause: 'file-store' | 'no-route' | 'other'): OtlpRouteProbe {
  return { available: false, status: response.status, reason: describeErrorBody(response), cause };
}

/** Database stores number experiments from 0 upwards and file stores use 18 random digits: 19 digits is free. */
function absentExperimentId(): string {
  return `9${BigInt(`0x${randomBytes(7).toString('hex')}`)
    .toString()
    .padStart(18, '0')}`;
}

function probeSpan(): ReadableSpan {
  const now: [number, number] = [Math.floor(Date.now() / 1000), 0];
  return {
    name: 'otel-mlflow.probe',
    kind: SpanKind.INTERNAL,
    spanContext: () => ({
      traceId: randomBytes(16).toString('hex'),
      spanId: randomBytes(8).toString('hex'),
      traceFlags: TraceFlags.SAMPLED,
    }),
    startTime: now,
    endTime: now,
    status: { code: SpanStatusCode.UNSET },
    attributes: {},
    links: [],
    events: [],
    duration: [0, 0],
    ended: true,
    resource: resourceFromAttributes({ 'service.name': 'otel-mlflow' }),
    instrumentationScope: { name: 'otel-mlflow' },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}
