import { context, propagation, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
} from '@opentelemetry/sdk-trace';
import type { TracesSampler } from '../config/options.ts';
import { maskSecrets, rememberedSecrets } from '../config/configured-secrets.ts';
import type { AuthSettings } from '../config/types.ts';
import type { ResolvedDestination } from '../destination/resolved-destination.ts';
import type { Target } from '../destination/target.ts';
import type { StoreOptions } from '../pipeline/store/trace-store.ts';
import { TracePipeline, type PipelineEvent, type PipelineReport } from '../pipeline/trace-pipeline.ts';
import { lightTracer } from '../tracing/light-tracer.ts';

/** How long a one-shot command waits for its traces to leave before it leaves them pending on disk. */
export const FLUSH_DEADLINE_MS = 15_000;

export interface TracingOptions {
  /** Where traces are meant to go: they wait for it on disk until it is resolved. Absent in local-only mode. */
  target: Target | undefined;
  /** The target as resolved, when it already is; later, `pipeline.addDestination`. */
  destination?: ResolvedDestination;
  /** The credentials for the destination (the pipeline's worker makes its own client from them). */
  auth?: AuthSettings;
  /** The store every trace is written to first (and kept in, without a destination). */
  storeDir: string;
  store?: Omit<StoreOptions, 'now'>;
  /** The command producing the traces, kept with each (`traces push` leaves doctor's out). */
  origin: string;
  serviceName: string;
  resourceAttributes?: Record<string, string>;
  version?: string;
  /** False: no span is stored or leaves the process with message content (prompts, answers, documents). */
  captureContent?: boolean;
  /** OTEL_SDK_DISABLED: no provider, no spans, nothing stored. */
  disabled?: boolean;
  sampler?: { name: TracesSampler; arg?: number };
  /** serve delivers while it runs; one-shot commands deliver when they flush. */
  deliverInBackground?: boolean;
  onEvent?: (event: PipelineEvent) => void;
}

export interface Tracing {
  readonly tracer: Tracer;
  /** Absent when OpenTelemetry is disabled. */
  readonly pipeline: TracePipeline | undefined;
  /** Stores every finished trace and delivers what is pending; waits at most deadlineMs. */
  flush(deadlineMs?: number): Promise<PipelineReport | undefined>;
  /** Ends what is still running, stores and delivers within the deadline or until `interrupt` aborts, and stops the provider. */
  shutdown(deadlineMs?: number, interrupt?: AbortSignal): Promise<PipelineReport | undefined>;
}

let active: Tracing | undefined;

/**
 * The one tracer provider of the process, feeding the one trace pipeline. Two SDKs registering global
 * providers in one process fight over spans, so a second call is a programming error.
 */
export async function startTracing(options: TracingOptions): Promise<Tracing> {
  if (active) throw new Error('startTracing() was called twice; the process has one tracer provider');
  if (options.disabled) return disabledTracing();

  const pipeline = new TracePipeline({
    storeDir: options.storeDir,
    ...(options.store && { storeOptions: options.store }),
    ...(options.target && { target: options.target }),
    ...(options.destination && { destination: options.destination }),
    ...(options.auth && { auth: options.auth }),
    origin: options.origin,
    captureContent: options.captureContent !== false,
    // A configured secret that reached a span (a provider's error echoing its key) is masked before it
    // is kept; with no secret configured there is nothing to look for in every span's text.
    ...(rememberedSecrets().length > 0 && { maskText: maskSecrets }),
    deliverInBackground: options.deliverInBackground === true,
    ...(options.onEvent && { onEvent: options.onEvent }),
  });
  const resource = resourceFromAttributes({
    'service.name': options.serviceName,
    ...(options.version && { 'service.version': options.version }),
    ...options.resourceAttributes,
  });
  const sampler = createSampler(options.sampler);
  const spanProcessors = [pipeline.assembler];
  const provider = new TracerProvider({ resource, sampler, spanProcessors });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
  trace.setGlobalTracerProvider(provider);

  const tracing: Tracing = {
    tracer: lightTracer({
      resource,
      sampler,
      spanProcessors,
      scope: { name: 'otel-mlflow', ...(options.version && { version: options.version }) },
    }),
    pipeline,
    flush: (deadlineMs = FLUSH_DEADLINE_MS) => pipeline.flush(deadlineMs),
    shutdown: async (deadlineMs = FLUSH_DEADLINE_MS, interrupt) => {
      await provider.shutdown();
      const report = await pipeline.shutdown(deadlineMs, interrupt);
      trace.disable();
      context.disable();
      propagation.disable();
      active = undefined;
      return report;
    },
  };
  active = tracing;
  return tracing;
}

/** The SDK environment specification's samplers; parent-based ones follow an incoming traceparent's decision. */
export function createSampler(choice: TracingOptions['sampler'] = { name: 'parentbased_always_on' }): Sampler {
  const ratio = () => new TraceIdRatioBasedSampler(choice.arg ?? 1);
  switch (choice.name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio();
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio() });
  }
}

function disabledTracing(): Tracing {
  return {
    tracer: trace.getTracer('otel-mlflow'),
    pipeline: undefined,
    flush: async () => undefined,
    shutdown: async () => undefined,
  };
}
