import type { AuthSettings } from '../../config/types.ts';
import { connectTo } from '../../mlflow/connect.ts';
import type { ExportPlan } from '../../tracing/export-plan.ts';
import type { Destination } from '../destinations/destination.ts';
import { destinationForPlan } from '../destinations/destination-for-plan.ts';

type RemotePlan = Exclude<ExportPlan, { kind: 'local' }>;
type WithoutHttp<P> = P extends { http: unknown } ? Omit<P, 'http'> & { baseUrl: string } : P;

/**
 * A destination as plain data, so the pipeline's worker thread can build its own: clients, sockets
 * and OAuth token caches do not cross threads.
 */
export interface DestinationSpec {
  key: string;
  plan: WithoutHttp<RemotePlan>;
  /** How the worker signs its requests (the credentials never leave the process). */
  auth: AuthSettings;
}

export function destinationSpec(plan: RemotePlan, key: string, auth: AuthSettings): DestinationSpec {
  if (!('http' in plan)) return { key, plan, auth };
  const { http, ...rest } = plan;
  return { key, plan: { ...rest, baseUrl: http.baseUrl } as WithoutHttp<RemotePlan>, auth };
}

export function destinationFromSpec(spec: DestinationSpec): Destination {
  const { plan } = spec;
  if (!('baseUrl' in plan)) return destinationForPlan(plan, spec.key);
  const { baseUrl, ...rest } = plan;
  return destinationForPlan({ ...rest, http: connectTo(baseUrl, spec.auth).http } as RemotePlan, spec.key);
}
