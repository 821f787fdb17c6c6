import type { ExportPlan } from '../../tracing/export-plan.ts';
import { createAuthProvider } from '../../mlflow/auth.ts';
import { createMlflowHttp } from '../../mlflow/http.ts';
import { VERSION } from '../../version.ts';
import { linkTracesToRun } from '../../mlflow/runs.ts';
import type { MlflowHttp } from '../../mlflow/http.ts';
import { runLinkHeaders, type RunLink } from '../../tracing/run-link.ts';
import type { Destination } from './destination.ts';
import { otlpDestination } from './otlp-destination.ts';
import { restDestination } from './rest-destination.ts';

/**
 * The destination a plan names, under `key` (see destinationKey): the place traces end up, not the
 * route, so a trace left pending over REST may go over OTLP once the server takes it.
 */
export function destinationForPlan(plan: Exclude<ExportPlan, { kind: 'local' }>, key: string): Destination {
  switch (plan.kind) {
    case 'otlp':
      return otlpDestination({
        key,
        description: describePlan(plan),
        http: plan.http,
        path: '/v1/traces',
        headers: { 'x-mlflow-experiment-id': plan.experimentId, ...runLinkHeaders(plan.runLink) },
        encoding: plan.encoding,
        gzip: plan.gzip,
        ...linkAfterDelivery(plan.http, plan.runLink),
      });
    case 'rest':
      return restDestination({
        key,
        description: describePlan(plan),
        http: plan.http,
        experimentId: plan.experimentId,
        artifactUpload: plan.artifactUpload,
        ...linkAfterDelivery(plan.http, plan.runLink),
      });
    case 'uc':
      return otlpDestination({
        key,
        description: describePlan(plan),
        http: plan.http,
        path: '/api/2.0/otel/v1/traces',
        headers: { 'X-Databricks-UC-Table-Name': plan.table },
        encoding: 'protobuf',
        gzip: true,
      });
    case 'collector':
      return otlpDestination({
        key,
        description: describePlan(plan),
        http: createMlflowHttp({ baseUrl: plan.endpoint, auth: createAuthProvider({ kind: 'none' }), userAgent: `otel-mlflow/${VERSION}` }),
        path: plan.endpoint,
        headers: plan.headers,
        encoding: plan.encoding,
        gzip: false,
        auth: false,
      });
  }
}

/** Where the server cannot link traces to a run by the request itself, they are linked once it took them. */
function linkAfterDelivery(http: MlflowHttp, link: RunLink | undefined): Pick<Destination, 'afterDelivered'> {
  if (link?.via !== 'link-to-run') return {};
  return {
    async afterDelivered(traces) {
      try {
        await linkTracesToRun(http, link.runId, traces.map((trace) => trace.traceId));
        return undefined;
      } catch (error) {
        return `delivered, but not linked to MLflow run ${link.runId}: ${error instanceof Error ? error.message : String(error)}`;
      }
    },
  };
}

/** Where a plan sends traces, for people: `MLflow at http://127.0.0.1:5000, experiment 1 (OTLP)`. */
export function describePlan(plan: Exclude<ExportPlan, { kind: 'local' }>): string {
  switch (plan.kind) {
    case 'otlp':
      return `MLflow at ${plan.http.baseUrl}, experiment ${plan.experimentId} (OTLP)`;
    case 'rest':
      return `${plan.artifactUpload === 'databricks-signed-url' ? 'Databricks workspace' : 'MLflow at'} ${plan.http.baseUrl}, experiment ${plan.experimentId} (MLflow REST)`;
    case 'uc':
      return `Unity Catalog table ${plan.table} in ${plan.http.baseUrl}`;
    case 'collector':
      return `OTLP collector at ${plan.endpoint}`;
  }
}
