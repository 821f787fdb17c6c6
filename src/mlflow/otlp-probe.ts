import type { MlflowHttp } from './http.ts';
import { describeErrorBody, MlflowApiError } from './errors.ts';

export type OtlpRouteProbe =
  | { available: true }
  | { available: false; status: number; reason: string; cause: 'file-store' | 'no-route' | 'other' };

/**
 * `GET /v1/traces` answers Flask's 404 page even where the POST route exists, so the probe POSTs an
 * empty protobuf body: a server with the route refuses it with 400 "no spans found", one without
 * answers 404 (too old, or started under gunicorn/waitress) or 501 (file store).
 */
export async function probeOtlpRoute(http: MlflowHttp, experimentId: string): Promise<OtlpRouteProbe> {
  const response = await http.request({
    method: 'POST',
    path: '/v1/traces',
    body: new Uint8Array(),
    headers: { 'Content-Type': 'application/x-protobuf', 'x-mlflow-experiment-id': experimentId },
    raw: true,
  });
  if (response.status === 401 || response.status === 403) {
    throw MlflowApiError.fromResponse('POST', '/v1/traces', response);
  }
  if (response.status === 501) {
    return { available: false, status: 501, reason: describeErrorBody(response), cause: 'file-store' };
  }
  if (response.status === 404 && !response.text.includes('Experiment')) {
    return { available: false, status: 404, reason: describeErrorBody(response), cause: 'no-route' };
  }
  if (response.status >= 500) {
    return { available: false, status: response.status, reason: describeErrorBody(response), cause: 'other' };
  }
  return { available: true };
}
