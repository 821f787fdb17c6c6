import type { Tracer } from '@opentelemetry/api';
import { createAgentService } from '../agent/agent-service.ts';
import type { AgentService } from '../agent/types.ts';
import { loadConfig } from '../config/load-config.ts';
import { isMlflowDestination, type LoadConfigOptions, type ResolvedConfig } from '../config/types.ts';
import { checkConfiguredRun } from '../mlflow/check-run.ts';
import { connectToTracking } from '../mlflow/connect.ts';
import { ensureAppExperiment } from '../mlflow/ensure-experiment.ts';
import { getServerVersion, capabilitiesFor } from '../mlflow/server-info.ts';
import { experimentUrl, traceUrl } from '../mlflow/ui-links.ts';
import { createLlmClient } from '../llm/providers.ts';
import type { LlmClient } from '../llm/types.ts';
import { UnreachableError } from '../mlflow/errors.ts';
import { destinationKey } from '../pipeline/destinations/destination-key.ts';
import type { PipelineEvent, PipelineReport } from '../pipeline/trace-pipeline.ts';
import { startTracing, type Tracing } from '../tracing/bootstrap.ts';
import { chooseExportPlan, type ExportPlan } from '../tracing/export-plan.ts';
import { VERSION } from '../version.ts';
import { commandLine } from '../util/invocation.ts';

export interface TracingTarget {
  /** e.g. 'MLflow at http://127.0.0.1:5000 (OTLP)'. */
  description: string;
  experiment?: { id: string; name?: string; url?: string };
  route: string;
}

/** Everything a traced LLM command needs, built once per process from the one config. */
export interface AppRuntime {
  config: ResolvedConfig;
  tracer: Tracer;
  tracing: Tracing;
  llm: LlmClient;
  agent: AgentService;
  target: TracingTarget;
  /** Things the person should know at start-up: an experiment created, the offline model chosen… */
  notices: string[];
  traceLink(traceId: string): string | undefined;
  /** Stores every trace, delivers within the deadline, and stops tracing; undefined when tracing is disabled. */
  shutdown(deadlineMs?: number): Promise<PipelineReport | undefined>;
}

export interface AppRuntimeOptions {
  config: Omit<LoadConfigOptions, 'purpose'>;
  /** The command (`serve`, `ask`, `suite`), kept with each trace. */
  origin: string;
  /** serve delivers while it runs; one-shot commands when they finish. */
  deliverInBackground?: boolean;
  /**
   * One-shot commands answer even when the destination cannot be reached: the trace waits on disk
   * for it. A server fails at start instead, where the person starting it is watching.
   */
  answerWhenUnreachable?: boolean;
  onEvent?: (event: PipelineEvent) => void;
}

export async function startAppRuntime(options: AppRuntimeOptions): Promise<AppRuntime> {
  const config = await loadConfig({ ...options.config, purpose: 'app' });
  const notices: string[] = [...config.notices];
  let resolved: Awaited<ReturnType<typeof resolveTracingTarget>>;
  try {
    resolved = await resolveTracingTarget(config, notices);
  } catch (error) {
    if (!(options.answerWhenUnreachable && error instanceof UnreachableError)) throw error;
    notices.push(`${error.message}: traces wait in ${config.storeDir.value} and are sent by the next run that reaches it, or by \`${commandLine('traces push')}\``);
    resolved = { plan: undefined, experiment: undefined };
  }
  const { plan, experiment } = resolved;
  const destination = config.destination;

  const tracing = await startTracing({
    plan,
    destinationKey: destinationKey(config),
    auth: config.auth,
    storeDir: config.storeDir.value,
    maxStoreBytes: config.storeMaxBytes.value,
    origin: options.origin,
    serviceName: config.serviceName.value,
    resourceAttributes: config.resourceAttributes.value,
    version: VERSION,
    captureContent: config.llm.captureContent.value,
    disabled: config.tracing.disabled.value,
    sampler: { name: config.tracing.sampler.value, ...(config.tracing.samplerArg && { arg: config.tracing.samplerArg.value }) },
    deliverInBackground: options.deliverInBackground === true,
    ...(options.onEvent && { onEvent: options.onEvent }),
  });
  try {
    const tracer = tracing.tracer;
    // Unity Catalog tables and collectors read the GenAI names; MLflow servers read mlflow.span*.
    const contentAttributes = plan?.kind === 'uc' || plan?.kind === 'collector' ? 'gen_ai' : 'mlflow';
    const llm = createLlmClient(config, { tracer, contentAttributes });
    if (llm.provider === 'offline' && !config.llm.provider) {
      notices.push('no LLM configured (OPENAI_API_KEY or --provider): answering with the built-in offline model');
    }
    const route = plan?.kind ?? 'pending';
    return {
      config,
      tracer,
      tracing,
      llm,
      agent: createAgentService({ llm, tracer }),
      target: { description: describeTarget(config, route), ...(experiment && { experiment }), route },
      notices,
      traceLink: (traceId) => (experiment ? traceUrl(destination, experiment.id, traceId) : undefined),
      shutdown: (deadlineMs) => tracing.shutdown(deadlineMs),
    };
  } catch (error) {
    await tracing.shutdown(0);
    throw error;
  }
}

/** The experiment (found or created) and how traces reach it; needs the destination to answer. */
async function resolveTracingTarget(
  config: ResolvedConfig,
  notices: string[],
): Promise<{ plan: ExportPlan | undefined; experiment: TracingTarget['experiment'] }> {
  const connection = connectToTracking(config);
  const destination = config.destination;
  // Before the experiment is created or anything is sent: a run that cannot take the traces stops here.
  const run = await checkConfiguredRun(config, connection?.http);

  let experiment: TracingTarget['experiment'];
  if (connection && isMlflowDestination(destination)) {
    // As mlflow.set_experiment does: a missing experiment is created, with a notice.
    const ensured = await ensureAppExperiment(connection.http, config.experiment);
    if (ensured.action === 'created') notices.push(`created experiment ${ensured.label} (id ${ensured.experiment.experimentId})`);
    const url = experimentUrl(destination, ensured.experiment.experimentId);
    experiment = { id: ensured.experiment.experimentId, name: ensured.experiment.name, ...(url && { url }) };
  }
  const capabilities =
    connection && destination.kind === 'mlflow' ? capabilitiesFor(await getServerVersion(connection.http)) : undefined;
  const plan = await chooseExportPlan({
    config,
    ...(connection && { http: connection.http }),
    ...(experiment && { experimentId: experiment.id }),
    ...(capabilities && { capabilities }),
    ...(run && { runId: run.runId }),
  });
  notices.push(...plan.notes);
  if (run) notices.push(`traces are linked to MLflow run ${run.name ? `'${run.name}' ` : ''}(${run.runId})`);
  return { plan, experiment };
}

function describeTarget(config: ResolvedConfig, route: string): string {
  const destination = config.destination;
  const how = { otlp: 'OTLP', rest: 'MLflow REST', uc: 'OTLP', collector: 'OTLP', local: '', pending: 'unreachable now' }[route] ?? route;
  switch (destination.kind) {
    case 'mlflow':
      return `MLflow at ${destination.trackingUri.value} (${how})`;
    case 'databricks':
      return `Databricks workspace ${destination.host.value} (${how})`;
    case 'databricks-uc':
      return `Unity Catalog table ${destination.table.value} in ${destination.host.value}`;
    case 'otlp':
      return `OTLP collector at ${destination.endpoint.value}`;
    case 'none':
      return `the local store ${config.storeDir.value} (no MLflow configured: see them with \`${commandLine('traces list')}\`, send them with \`${commandLine('traces push')}\`)`;
  }
}
