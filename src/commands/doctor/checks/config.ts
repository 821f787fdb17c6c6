import { loadConfig } from '../../../config/load-config.ts';
import { describeSource } from '../../../config/mask.ts';
import type { ResolvedConfig } from '../../../config/types.ts';
import { targetOf, type CollectorTarget, type ExperimentTarget, type UnityCatalogTarget } from '../../../destination/target.ts';
import { connectTo } from '../../../mlflow/connect.ts';
import type { MlflowHttp } from '../../../mlflow/http.ts';
import type { AuthProvider } from '../../../workspace-auth/auth.ts';
import type { Asked, Check, Outcome } from './check.ts';

/** An MLflow experiment, self-hosted or in a Databricks workspace, and the client that reaches it. */
export interface ExperimentWhere {
  kind: 'mlflow' | 'databricks';
  target: ExperimentTarget;
  http: MlflowHttp;
  auth: AuthProvider;
}

/** Where the configuration sends traces, with the client to ask there when there is a server to ask. */
export type Where =
  | { kind: 'local'; storeDir: string }
  | { kind: 'collector'; target: CollectorTarget }
  | { kind: 'unity-catalog'; target: UnityCatalogTarget; http: MlflowHttp; auth: AuthProvider }
  | ExperimentWhere;

export function isExperimentWhere(where: Where): where is ExperimentWhere {
  return where.kind === 'mlflow' || where.kind === 'databricks';
}

export interface ConfigFound {
  config: ResolvedConfig;
  where: Where;
}

export const configCheck: Check<Asked, ConfigFound> = {
  id: 'config',
  title: 'Configuration',
  async run({ input }) {
    const config = await loadConfig(input.config);
    const outcome = describeConfig(config);
    const adds = { config, where: whereTo(config) };
    if (config.notices.length === 0) return { ...outcome, adds };
    // Valid but most likely not meant (a demo placeholder, Databricks variables nothing uses): say so first.
    return { ...outcome, status: 'warn', hint: [...config.notices, outcome.hint].filter(Boolean).join('; '), adds };
  },
};

function whereTo(config: ResolvedConfig): Where {
  const target = targetOf(config);
  if (!target) return { kind: 'local', storeDir: config.storeDir.value };
  switch (target.kind) {
    case 'collector':
      return { kind: 'collector', target };
    case 'unity-catalog':
      return { kind: 'unity-catalog', target, ...connectTo(target.server, config.auth) };
    case 'mlflow':
    case 'databricks':
      return { kind: target.kind, target, ...connectTo(target.server, config.auth) };
  }
}

function describeConfig(config: ResolvedConfig): Outcome {
  const destination = config.destination;
  switch (destination.kind) {
    case 'local':
      return {
        status: 'warn',
        detail: `no MLflow is configured: traces are kept in ${config.storeDir.value} (from ${describeSource(config.storeDir.source)})`,
        hint: 'to send them to MLflow, set MLFLOW_TRACKING_URI (e.g. http://127.0.0.1:5000, or databricks) in the environment or .env, or pass --tracking-uri',
      };
    case 'mlflow':
      return {
        status: 'ok',
        detail: `MLflow at ${destination.trackingUri.value} (from ${describeSource(destination.trackingUri.source)}); ${describeAuth(config)}`,
      };
    case 'databricks':
    case 'unity-catalog':
      return {
        status: 'ok',
        detail: `Databricks workspace ${destination.host.value} (from ${describeSource(destination.host.source)}); ${describeAuth(config)}`,
      };
    case 'collector':
      return {
        status: 'ok',
        detail: `OTLP collector at ${destination.endpoint.value} (from ${describeSource(destination.endpoint.source)})`,
      };
  }
}

function describeAuth(config: ResolvedConfig): string {
  const auth = config.auth;
  switch (auth.kind) {
    case 'none':
      return 'no credentials';
    case 'basic':
      return `Basic auth as ${auth.username.value} (from ${describeSource(auth.username.source)})`;
    case 'bearer':
    case 'databricks-pat':
      return `${auth.kind === 'bearer' ? 'bearer token' : 'personal access token'} (from ${describeSource(auth.token.source)})`;
    case 'databricks-oauth-m2m':
      return `OAuth M2M client ${auth.clientId.value} (from ${describeSource(auth.clientId.source)})`;
  }
}
