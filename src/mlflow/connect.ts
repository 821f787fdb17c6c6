import type { ResolvedConfig } from '../config/types.ts';
import { VERSION } from '../version.ts';
import { createAuthProvider, type AuthProvider } from './auth.ts';
import { createMlflowHttp, type MlflowHttp } from './http.ts';

export interface TrackingConnection {
  http: MlflowHttp;
  auth: AuthProvider;
}

/** The client for the configured MLflow server or Databricks workspace; none for a collector or no destination. */
export function connectToTracking(config: ResolvedConfig): TrackingConnection | undefined {
  const destination = config.destination;
  if (destination.kind === 'otlp' || destination.kind === 'none') return undefined;
  const baseUrl = destination.kind === 'mlflow' ? destination.trackingUri.value : destination.host.value;
  const auth = createAuthProvider(config.auth, { host: baseUrl });
  return { auth, http: createMlflowHttp({ baseUrl, auth, userAgent: `otel-mlflow/${VERSION}` }) };
}
