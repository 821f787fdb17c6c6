import type { Tracer } from '@opentelemetry/api';
import { createAgentService } from '../agent/agent-service.ts';
import type { AgentService } from '../agent/types.ts';
import { loadConfig } from '../config/load-config.ts';
import { isMlflowDestination, type LoadConfigOptions, type ResolvedConfig } from '../config/types.ts';
import { connectToTracking } from '../mlflow/connect.ts';
import { ensureAppExperiment } from '../mlflow/ensure-experiment.ts';
import { getServerVersion, capabilitiesFor } from '../mlflow/server-info.ts';
import { experimentUrl, traceUrl } from '../mlflow/ui-links.ts';
import { createLlmClient } from '../llm/providers.ts';
import type { LlmClient } from '../llm/types.ts';
import { startTracing, type Tracing } from '../tracing/bootstrap.ts';
import type { ExportReport } from '../tracing/export-ledger.ts';
import { chooseExportPlan } from '../tracing/export-plan.ts';
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
  /** Flushes every trace within the deadline and stops tracing. */
  shutdown(deadlineMs?: number): Promise<ExportReport>;
}

export async function startAppRuntime(configOptions: Omit<LoadConfigOptions, 'purpose'>): Promise<AppRuntime> {
  const config = await loadConfig({ ...configOptions, purpose: 'app' });
  const notices: string[] = [...config.notices];
  const connection = connectToTracking(config);
  const destination = config.destination;

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
  });
  notices.push(...plan.notes);

  const tracing = await startTracing({
    plan,
    serviceName: config.serviceName.value,
    resourceAttributes: config.resourceAttributes.value,
    version: VERSION,
    captureContent: config.llm.captureContent.value,
  });
  try {
    const tracer = tracing.tracer;
    // Unity Catalog tables and collectors read the GenAI names; MLflow servers read mlflow.span*.
    const contentAttributes = plan.kind === 'uc' || plan.kind === 'collector' ? 'gen_ai' : 'mlflow';
    const llm = createLlmClient(config, { tracer, contentAttributes });
    if (llm.provider === 'offline' && !config.llm.provider) {
      notices.push('no LLM configured (OPENAI_API_KEY or --provider): answering with the built-in offline model');
    }
    return {
      config,
      tracer,
      tracing,
      llm,
      agent: createAgentService({ llm, tracer }),
      target: { description: describeTarget(config, plan.kind), ...(experiment && { experiment }), route: plan.kind },
      notices,
      traceLink: (traceId) => (experiment ? traceUrl(destination, experiment.id, traceId) : undefined),
      shutdown: (deadlineMs) => tracing.shutdown(deadlineMs),
    };
  } catch (error) {
    await tracing.shutdown(0);
    throw error;
  }
}

function describeTarget(config: ResolvedConfig, route: string): string {
  const destination = config.destination;
  const how = { otlp: 'OTLP', rest: 'MLflow REST', uc: 'OTLP', collector: 'OTLP', local: '' }[route] ?? route;
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
