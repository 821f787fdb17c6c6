import type { Tracer } from '@opentelemetry/api';
import { createAgentService } from './agent-service.ts';
import type { AgentService } from './types.ts';
import { loadConfig } from '../config/load-config.ts';
import type { LoadConfigOptions, ResolvedConfig } from '../config/types.ts';
import { createLlmClient } from './llm/providers.ts';
import type { LlmClient } from './llm/types.ts';
import type { PipelineEvent, PipelineReport } from '../pipeline/trace-pipeline.ts';
import { VERSION } from '../version.ts';
import { startDestination, type DestinationRuntime } from '../runtime/destination-runtime.ts';
import { startTracing, type Tracing } from '../runtime/start-tracing.ts';

/** Everything a traced LLM command needs, built once per process from the one config. */
export interface AppRuntime {
  config: ResolvedConfig;
  tracer: Tracer;
  tracing: Tracing;
  llm: LlmClient;
  agent: AgentService;
  /** Where traces go, resolved in the background; its state says whether they are delivered yet. */
  destination: DestinationRuntime;
  /** Things the person should know at start-up: an experiment created, the offline model chosen… */
  notices: string[];
  /** Why the offline model answers, when nothing chose it (also in `notices`, for commands that print no LLM line). */
  llmNotice?: string;
  traceLink(traceId: string): string | undefined;
  /** Stores every trace, delivers within the deadline or until `interrupt` aborts, and stops tracing; undefined when tracing is disabled. */
  shutdown(deadlineMs?: number, interrupt?: AbortSignal): Promise<PipelineReport | undefined>;
}

export interface AppRuntimeOptions {
  config: Omit<LoadConfigOptions, 'purpose'>;
  /** The command (`serve`, `ask`, `suite`), kept with each trace. */
  origin: string;
  /** serve delivers while it runs; one-shot commands when they finish. */
  deliverInBackground?: boolean;
  onEvent?: (event: PipelineEvent) => void;
  /** The destination's problems and recovery, as they happen after start-up (a server's log). */
  onDestinationChange?: (line: string) => void;
}

/**
 * Starts at once whatever MLflow does: its traces wait on disk for the configured destination, which
 * is resolved in the background and delivered to once it answers. Only a problem a person must fix
 * (a deleted experiment, a run of another experiment) stops the start.
 */
export async function startAppRuntime(options: AppRuntimeOptions): Promise<AppRuntime> {
  const config = await loadConfig({ ...options.config, purpose: 'app' });
  const notices: string[] = [...config.notices];
  let tracing: Tracing | undefined;
  const destination = await startDestination(config, {
    onResolved: (resolved) => tracing?.pipeline?.addDestination(resolved),
    ...(options.onDestinationChange && { onChange: options.onDestinationChange }),
  });
  try {
    notices.push(...destination.notices());
    tracing = await startTracing({
      target: destination.target,
      ...(destination.resolved() && { destination: destination.resolved()! }),
      auth: config.auth,
      storeDir: config.storeDir.value,
      store: { maxBytes: config.storeMaxBytes.value },
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
    // Resolved between the check above and the pipeline's start: hand it over now.
    const late = destination.resolved();
    if (late) tracing.pipeline?.addDestination(late);
  } catch (error) {
    destination.stop();
    throw error;
  }
  try {
    const tracer = tracing.tracer;
    // Unity Catalog tables and collectors read the GenAI names; MLflow servers read mlflow.span*.
    const kind = destination.target?.kind;
    const contentAttributes = kind === 'unity-catalog' || kind === 'collector' ? 'gen_ai' : 'mlflow';
    const llm = createLlmClient(config, { tracer, contentAttributes });
    const llmNotice =
      llm.provider === 'offline' && !config.llm.provider
        ? 'no LLM configured (OPENAI_API_KEY, ANTHROPIC_API_KEY or --provider)'
        : undefined;
    if (llmNotice) notices.push(`${llmNotice}: answering with the built-in offline model`);
    const running = tracing;
    return {
      config,
      tracer,
      tracing: running,
      llm,
      agent: createAgentService({ llm, tracer }),
      destination,
      notices,
      ...(llmNotice && { llmNotice }),
      traceLink: (traceId) => destination.traceUrl(traceId),
      shutdown: async (deadlineMs, interrupt) => {
        destination.stop();
        const report = await running.shutdown(deadlineMs, interrupt);
        // Never resolved, so never tried: the closing line names why the traces wait.
        const state = destination.state();
        if (report && !report.lastFailure && state.kind === 'failing') report.lastFailure = { answer: state.problem, at: state.since };
        return report;
      },
    };
  } catch (error) {
    destination.stop();
    await tracing.shutdown(0);
    throw error;
  }
}
