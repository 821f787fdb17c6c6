import { ExitCode, ExpectedError } from '../errors.ts';
import type { OtlpEncoding, ResolvedConfig } from '../config/types.ts';
import type { MlflowHttp } from '../mlflow/http.ts';
import { probeOtlpRoute, type OtlpRouteProbe } from './otlp-probe.ts';
import type { ServerCapabilities } from '../mlflow/server-info.ts';
import type { RunLink } from './run-link.ts';

/** Where and how this process's traces go, decided once per process from the config and the server. */
export type ExportPlan =
  | { kind: 'otlp'; http: MlflowHttp; experimentId: string; encoding: OtlpEncoding; gzip: boolean; runLink?: RunLink; notes: string[] }
  | {
      kind: 'rest';
      http: MlflowHttp;
      experimentId: string;
      runLink?: RunLink;
      artifactUpload: 'mlflow-artifacts' | 'databricks-signed-url';
      /** Set when REST was a fallback because the server has no usable OTLP route. */
      otlpProbe?: Extract<OtlpRouteProbe, { available: false }>;
      notes: string[];
    }
  | { kind: 'uc'; http: MlflowHttp; table: string; notes: string[] }
  | { kind: 'collector'; endpoint: string; headers: Record<string, string>; encoding: OtlpEncoding; notes: string[] }
  /** No destination configured: traces are kept in the local store for `otel-mlflow traces`. */
  | { kind: 'local'; dir: string; notes: string[] };

export interface PlanInputs {
  config: ResolvedConfig;
  /** Client for the tracking server or workspace; absent only for a plain collector. */
  http?: MlflowHttp;
  experimentId?: string;
  capabilities?: ServerCapabilities;
  /** A run already checked (checkConfiguredRun): the traces get linked to it. */
  runId?: string;
}

export async function chooseExportPlan({ config, http, experimentId, capabilities, runId }: PlanInputs): Promise<ExportPlan> {
  const destination = config.destination;
  switch (destination.kind) {
    case 'otlp':
      return {
        kind: 'collector',
        endpoint: destination.endpoint.value,
        headers: destination.headers?.value ?? {},
        encoding: config.otlpEncoding.value,
        notes: [],
      };
    case 'databricks-uc':
      return { kind: 'uc', http: required(http, 'http'), table: destination.table.value, notes: [] };
    case 'databricks':
      return {
        kind: 'rest',
        http: required(http, 'http'),
        experimentId: required(experimentId, 'experimentId'),
        artifactUpload: 'databricks-signed-url',
        ...(runId && { runLink: { runId, via: 'link-to-run' } }),
        notes: ['Databricks experiments take traces over MLflow REST (there is no OTLP route for an experiment)'],
      };
    case 'mlflow':
      return chooseSelfHosted(config, required(http, 'http'), required(experimentId, 'experimentId'), capabilities, runId);
    case 'none':
      return {
        kind: 'local',
        dir: config.storeDir.value,
        notes: [`no tracking destination is configured: traces are kept in ${config.storeDir.value}`],
      };
  }
}

async function chooseSelfHosted(
  config: ResolvedConfig,
  http: MlflowHttp,
  experimentId: string,
  capabilities: ServerCapabilities | undefined,
  runId: string | undefined,
): Promise<ExportPlan> {
  const rest = (notes: string[], otlpProbe?: Extract<OtlpRouteProbe, { available: false }>): ExportPlan => ({
    kind: 'rest',
    http,
    experimentId,
    artifactUpload: 'mlflow-artifacts',
    ...(runId && { runLink: { runId, via: 'link-to-run' } }),
    ...(otlpProbe && { otlpProbe }),
    notes,
  });
  if (config.exportPath.value === 'rest') return rest(['REST chosen by configuration']);

  const probe = await probeOtlpRoute(http);
  if (!probe.available) {
    if (config.exportPath.value === 'otlp') throw otlpUnavailableError(probe, config);
    return rest([`OTLP route unavailable (${probe.reason}); using MLflow REST`], probe);
  }
  const notes: string[] = [];
  let encoding = config.otlpEncoding.value;
  if (encoding === 'json' && capabilities && !capabilities.otlpJson) {
    notes.push(`MLflow ${capabilities.version} refuses OTLP/JSON; sending protobuf instead`);
    encoding = 'protobuf';
  }
  const gzip = capabilities?.otlpGzip ?? false;
  if (!gzip) notes.push('sending uncompressed: this server refuses gzip (MLflow 3.6) or its version is unknown');
  const runLink: RunLink | undefined = runId === undefined ? undefined : { runId, via: capabilities?.otlpRunHeader ? 'header' : 'link-to-run' };
  return { kind: 'otlp', http, experimentId, encoding, gzip, ...(runLink && { runLink }), notes };
}

export function otlpUnavailableError(
  probe: Extract<OtlpRouteProbe, { available: false }>,
  config: ResolvedConfig,
): ExpectedError {
  const why =
    probe.cause === 'file-store'
      ? 'the server uses a file store, which cannot take OTLP spans'
      : probe.cause === 'no-route'
        ? 'the server has no /v1/traces route (MLflow older than 3.6, or started under gunicorn/waitress)'
        : 'the server failed on /v1/traces';
  const uri = config.destination.kind === 'mlflow' ? config.destination.trackingUri.value : 'the server';
  return new ExpectedError(`OTLP export to ${uri} is unavailable: ${why} (${probe.reason})`, {
    exitCode: ExitCode.otlpUnavailable,
    hint:
      probe.cause === 'file-store'
        ? 'restart MLflow with a database backend: `mlflow server --backend-store-uri sqlite:///mlflow.db`, or accept the REST path with --export-path rest'
        : 'run MLflow 3.7+ with `mlflow server` (uvicorn), or accept the REST path with --export-path rest',
  });
}

function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new Error(`chooseExportPlan() needs ${name} for this destination`);
  return value;
}
