import { ExitCode, ExpectedError } from '../errors.ts';
import type { ResolvedConfig } from '../config/types.ts';
import { checkRun } from '../mlflow/check-run.ts';
import { ensureExperiment, type EnsuredExperiment, type EnsureExperimentOptions } from '../mlflow/ensure-experiment.ts';
import type { MlflowHttp } from '../mlflow/http.ts';
import type { MlflowRun } from '../mlflow/runs.ts';
import { capabilitiesFor, getServerVersion, type ServerCapabilities } from '../mlflow/server-info.ts';
import type { OtlpRouteProbe } from './otlp-route-probe.ts';
import type { OtlpRoute, ResolvedDestination, ResolvedExperiment, RestRoute } from './resolved-destination.ts';
import { targetKey, type ExperimentTarget, type Target } from './target.ts';

/** What to do with an experiment that is missing or deleted. */
export type ExperimentPolicy = Omit<EnsureExperimentOptions, 'found'>;

/**
 * What serve, ask, suite, the relay and `traces push` do, as `mlflow.set_experiment` does: a missing
 * experiment is created; a deleted one is reported, not restored behind the person's back.
 */
export const APP_EXPERIMENT_POLICY: ExperimentPolicy = {
  createMissing: true,
  restoreDeleted: false,
  experimentHint: 'set MLFLOW_EXPERIMENT_NAME_OTEL / --experiment to an existing one',
};

export interface ResolveOptions {
  /** The client for the target's server; absent for a collector. */
  http?: MlflowHttp;
  experimentPolicy?: ExperimentPolicy;
}

/**
 * The one way a target becomes a destination, in one fixed order: the run is checked (nothing is
 * created for traces a run cannot take), then the experiment is found or created, then the server's
 * capabilities are read, then the route is chosen. Failures are ExpectedErrors that say what to do,
 * or the client's errors when the server could not be asked.
 */
export async function resolveDestination(
  target: Target,
  config: ResolvedConfig,
  options: ResolveOptions = {},
): Promise<ResolvedDestination> {
  const key = targetKey(target);
  switch (target.kind) {
    case 'collector':
      return {
        kind: 'collector',
        target,
        key,
        headers: config.destination.kind === 'collector' ? (config.destination.headers?.value ?? {}) : {},
        encoding: config.otlpEncoding.value,
        notes: [],
      };
    case 'unity-catalog':
      required(options.http);
      return { kind: 'unity-catalog', target, key, notes: [] };
    case 'mlflow':
    case 'databricks': {
      const http = required(options.http);
      const run = await checkTargetRun(http, target);
      const ensured = await ensureTargetExperiment(http, target, options.experimentPolicy ?? APP_EXPERIMENT_POLICY);
      const capabilities = await readCapabilities(http, target);
      return chooseRoute(http, config, { target, key, experiment: ensured, ...(run && { run }), ...(capabilities && { capabilities }) });
    }
  }
}

/** Step 1: the run the target links its traces to, if any. */
export function checkTargetRun(http: MlflowHttp, target: ExperimentTarget): Promise<MlflowRun | undefined> {
  return target.run ? checkRun(http, target.run, target.experiment) : Promise.resolve(undefined);
}

/** Step 2: the experiment, found, created or restored as the policy allows. */
export function ensureTargetExperiment(
  http: MlflowHttp,
  target: ExperimentTarget,
  policy: ExperimentPolicy,
  found?: Parameters<typeof ensureExperiment>[2]['found'],
): Promise<EnsuredExperiment> {
  return ensureExperiment(http, target.experiment, { ...policy, ...(found !== undefined && { found }) });
}

/** Step 3: what the server's version does on the wire; Databricks does not say, and needs no guess. */
async function readCapabilities(http: MlflowHttp, target: ExperimentTarget): Promise<ServerCapabilities | undefined> {
  return target.kind === 'mlflow' ? capabilitiesFor(await getServerVersion(http)) : undefined;
}

export interface RouteInputs {
  target: ExperimentTarget;
  key: string;
  experiment: EnsuredExperiment;
  run?: MlflowRun;
  capabilities?: ServerCapabilities;
}

/** Step 4: how traces travel to the experiment. */
export async function chooseRoute(http: MlflowHttp, config: ResolvedConfig, inputs: RouteInputs): Promise<ResolvedExperiment> {
  const { target, key, experiment, run, capabilities } = inputs;
  const base = {
    kind: target.kind,
    target,
    key,
    experiment: {
      id: experiment.experiment.experimentId,
      ...(experiment.experiment.name !== undefined && { name: experiment.experiment.name }),
      ...(experiment.action !== 'found' && { action: experiment.action }),
    },
    ...(capabilities && { capabilities }),
  };
  const linked = (via: 'header' | 'link-to-run') => (run ? { run: { runId: run.runId, via, ...(run.name && { name: run.name }) } } : {});
  const rest = (
    notes: string[],
    artifactUpload: RestRoute['artifactUpload'],
    otlpUnavailable?: RestRoute['otlpUnavailable'],
  ): ResolvedExperiment => ({
    ...base,
    ...linked('link-to-run'),
    route: { via: 'rest', artifactUpload, ...(otlpUnavailable && { otlpUnavailable }) },
    notes,
  });
  if (target.kind === 'databricks') {
    return rest(
      ['Databricks experiments take traces over MLflow REST (there is no OTLP route for an experiment)'],
      'databricks-signed-url',
    );
  }
  if (config.exportPath.value === 'rest') return rest(['REST chosen by configuration'], 'mlflow-artifacts');

  // The probe sends a real span: the OpenTelemetry SDK loads only for a command that gets this far.
  const { probeOtlpRoute } = await import('./otlp-route-probe.ts');
  const probe = await probeOtlpRoute(http);
  if (!probe.available) {
    if (config.exportPath.value === 'otlp') throw otlpUnavailableError(probe, target.server);
    return rest([`OTLP route unavailable (${probe.reason}); using MLflow REST`], 'mlflow-artifacts', probe);
  }
  const notes: string[] = [];
  let encoding = config.otlpEncoding.value;
  if (encoding === 'json' && capabilities && !capabilities.otlpJson) {
    notes.push(`MLflow ${capabilities.version} refuses OTLP/JSON; sending protobuf instead`);
    encoding = 'protobuf';
  }
  const gzip = capabilities?.otlpGzip ?? false;
  if (!gzip) notes.push('sending uncompressed: this server refuses gzip (MLflow 3.6) or its version is unknown');
  const route: OtlpRoute = { via: 'otlp', encoding, gzip };
  return { ...base, ...linked(capabilities?.otlpRunHeader ? 'header' : 'link-to-run'), route, notes };
}

export function otlpUnavailableError(probe: Extract<OtlpRouteProbe, { available: false }>, server: string): ExpectedError {
  const why =
    probe.cause === 'file-store'
      ? 'the server uses a file store, which cannot take OTLP spans'
      : probe.cause === 'no-route'
        ? 'the server has no /v1/traces route (MLflow older than 3.6, or started under gunicorn/waitress)'
        : 'the server failed on /v1/traces';
  return new ExpectedError(`OTLP export to ${server} is unavailable: ${why} (${probe.reason})`, {
    exitCode: ExitCode.otlpUnavailable,
    hint:
      probe.cause === 'file-store'
        ? 'restart MLflow with a database backend: `mlflow server --backend-store-uri sqlite:///mlflow.db`, or accept the REST path with --export-path rest'
        : 'run MLflow 3.7+ with `mlflow server` (uvicorn), or accept the REST path with --export-path rest',
  });
}

function required(http: MlflowHttp | undefined): MlflowHttp {
  if (!http) throw new Error('resolveDestination() needs the client of the target’s server');
  return http;
}
