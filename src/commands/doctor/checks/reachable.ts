import { lookup } from 'node:dns/promises';
import { ExitCode, ExpectedError } from '../../../errors.ts';
import { MlflowApiError } from '../../../mlflow/errors.ts';
import type { MlflowHttp } from '../../../mlflow/http.ts';
import { isRedirect } from '../../../http-client/redirect.ts';
import type { AddsNothing, Check, Outcome } from './check.ts';
import type { ConfigFound } from './config.ts';
import { skippedForCollector, skippedForLocalStore } from './skipped.ts';

export const reachableCheck: Check<ConfigFound, AddsNothing> = {
  id: 'reachable',
  title: 'Tracking server reachable',
  async run({ where }) {
    switch (where.kind) {
      case 'local':
        return skippedForLocalStore();
      case 'collector':
        return skippedForCollector();
      default:
        return checkReachable(where.http);
    }
  },
};

/** How long the name took to resolve and the server to answer: any answer but a redirect will do. */
async function checkReachable(http: MlflowHttp): Promise<Outcome> {
  const url = new URL(http.baseUrl);
  const dnsStarted = performance.now();
  try {
    await lookup(url.hostname);
  } catch {
    throw new ExpectedError(`cannot resolve ${url.hostname}`, {
      exitCode: ExitCode.unreachable,
      hint: 'check the host name in MLFLOW_TRACKING_URI / DATABRICKS_HOST, and your DNS or VPN',
    });
  }
  const dnsMs = Math.round(performance.now() - dnsStarted);
  const started = performance.now();
  const response = await http.request({ method: 'GET', path: '/health', auth: false, raw: true });
  // Any answer proves the server is reachable, but a redirect says the tracking URI is not MLflow's.
  if (isRedirect(response.status)) throw MlflowApiError.fromResponse('GET', '/health', response);
  const ms = Math.round(performance.now() - started);
  const tls = url.protocol === 'https:' ? ', TLS ok' : '';
  return { status: 'ok', detail: `${url.host}: DNS ${dnsMs} ms; connected${tls}; HTTP ${response.status} in ${ms} ms` };
}
