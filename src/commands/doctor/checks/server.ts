import { ExitCode, ExpectedError } from '../../../errors.ts';
import { MlflowApiError } from '../../../mlflow/errors.ts';
import type { MlflowHttp } from '../../../mlflow/http.ts';
import { isRedirect } from '../../../http-client/redirect.ts';
import { capabilitiesFor, compareVersions, type ServerCapabilities } from '../../../mlflow/server-info.ts';
import type { Check, Finding } from './check.ts';
import type { ConfigFound } from './config.ts';
import { skippedForLocalStore } from './skipped.ts';

/** Below this, the server refuses gzip (3.6). */
const RECOMMENDED_VERSION = '3.7.0';

/** A self-hosted MLflow's version, and what it does on the wire; absent when it does not say. */
export interface ServerFound {
  server?: { version: string; capabilities: ServerCapabilities };
}

export const serverCheck: Check<ConfigFound, ServerFound> = {
  id: 'server',
  title: 'MLflow server',
  async run({ where }) {
    switch (where.kind) {
      case 'local':
        return skippedForLocalStore();
      case 'collector':
        return { status: 'skipped', detail: 'an OTLP collector, not MLflow' };
      case 'databricks':
      case 'unity-catalog':
        return { status: 'skipped', detail: 'Databricks-managed MLflow' };
      case 'mlflow':
        return identifyServer(where.http);
    }
  },
};

async function identifyServer(http: MlflowHttp): Promise<Finding<ServerFound>> {
  const response = await http.request({ method: 'GET', path: '/version', raw: true });
  if (isRedirect(response.status)) throw MlflowApiError.fromResponse('GET', '/version', response);
  if (response.status === 401 || response.status === 403) {
    const error = MlflowApiError.fromResponse('GET', '/version', response);
    if (error.fromProxy) throw error;
    return { status: 'warn', detail: 'MLflow answers, but its version is behind authentication' };
  }
  const version = response.text.trim();
  if (response.status !== 200 || !/^\d+\.\d+/.test(version)) {
    throw new ExpectedError(
      `${http.baseUrl} does not look like an MLflow tracking server (GET /version answered HTTP ${response.status})`,
      {
        exitCode: ExitCode.unreachable,
        hint: 'point MLFLOW_TRACKING_URI at the server started with `mlflow server` (its root URL, e.g. http://127.0.0.1:5000)',
      },
    );
  }
  const adds = { server: { version, capabilities: capabilitiesFor(version) } };
  if (compareVersions(version, RECOMMENDED_VERSION) < 0) {
    return {
      status: 'warn',
      detail: `MLflow ${version}: older than ${RECOMMENDED_VERSION}`,
      hint: 'upgrade (`pip install -U mlflow`): 3.6 refuses gzip, so traces go uncompressed; before 3.6 there is no OTLP route',
      adds,
    };
  }
  return { status: 'ok', detail: `MLflow ${version}`, adds };
}
