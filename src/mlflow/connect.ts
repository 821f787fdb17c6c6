import type { AuthSettings, ResolvedConfig } from '../config/types.ts';
import { VERSION } from '../version.ts';
import { createAuthProvider, type AuthProvider } from '../workspace-auth/auth.ts';
import { createMlflowHttp, type MlflowHttp } from './http.ts';

export interface TrackingConnection {
  http: MlflowHttp;
  auth: AuthProvider;
}

export interface ConnectOptions {
  timeoutMs?: number;
  /** Aborting it ends the client's requests (see MlflowHttpOptions.signal). */
  signal?: AbortSignal;
}

/** The client for the configured MLflow server or Databricks workspace; none for a collector or no destination. */
export function connectToTracking(config: ResolvedConfig, options: ConnectOptions = {}): TrackingConnection | undefined {
  const destination = config.destination;
  if (destination.kind === 'collector' || destination.kind === 'local') return undefined;
  return connectTo(destination.kind === 'mlflow' ? destination.trackingUri.value : destination.host.value, config.auth, options);
}

/** A client for a server not (yet) in the config: `init` tests each answer before writing it. */
export function connectTo(baseUrl: string, settings: AuthSettings, options: ConnectOptions = {}): TrackingConnection {
  const auth = createAuthProvider(settings, { host: baseUrl });
  return { auth, http: createMlflowHttp({ baseUrl, auth, userAgent: `otel-mlflow/${VERSION}`, ...options }) };
}
