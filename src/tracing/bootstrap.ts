import { context, propagation, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { TracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace';
import { ContentFilterExporter } from './content-filter-exporter.ts';
import { ExportLedger, type ExportReport } from './export-ledger.ts';
import { hiResTracer } from './hi-res-tracer.ts';
import type { ExportPlan } from './export-plan.ts';
import { OtlpTraceExporter } from './otlp-trace-exporter.ts';
import { RecordingExporter } from './recording-exporter.ts';
import { RestTraceExporter } from './rest-trace-exporter.ts';
import { runLinkHeaders } from './run-link.ts';
import { TraceGroupingProcessor } from './trace-grouping-processor.ts';

/** How long a one-shot command waits for its traces to leave before it reports them as not exported. */
export const FLUSH_DEADLINE_MS = 15_000;

export interface TracingOptions {
  plan: ExportPlan;
  serviceName: string;
  resourceAttributes?: Record<string, string>;
  version?: string;
  /** False: no span leaves the process with message content (prompts, answers, documents). */
  captureContent?: boolean;
}

export interface Tracing {
  readonly tracer: Tracer;
  readonly ledger: ExportLedger;
  readonly plan: ExportPlan;
  /** Exports every finished trace; waits at most deadlineMs. */
  flush(deadlineMs?: number): Promise<ExportReport>;
  /** Flushes everything (open traces too), stops the provider, and says what landed and what did not. */
  shutdown(deadlineMs?: number): Promise<ExportReport>;
}

let active: Tracing | undefined;

/**
 * The one tracer provider of the process. Two SDKs registering global providers in one process fight
 * over spans, so a second call is a programming error rather than a second provider.
 */
export async function startTracing(options: TracingOptions): Promise<Tracing> {
  if (active) throw new Error('startTracing() was called twice; the process has one tracer provider');
  const ledger = new ExportLedger();
  const planned = await createExporter(options.plan, ledger);
  const exporter = options.captureContent === false ? new ContentFilterExporter(planned) : planned;
  const processor = new TraceGroupingProcessor(exporter);
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': options.serviceName,
      ...(options.version && { 'service.version': options.version }),
      ...options.resourceAttributes,
    }),
    spanProcessors: [processor],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  trace.setGlobalTracerProvider(provider);

  const withDeadline = async (work: Promise<unknown>, deadlineMs: number): Promise<ExportReport> => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, deadlineMs);
    });
    try {
      await Promise.race([work.catch(() => undefined), deadline]);
    } finally {
      clearTimeout(timer);
    }
    return ledger.report(processor.pendingTraceCount);
  };

  const tracing: Tracing = {
    tracer: hiResTracer(provider.getTracer('otel-mlflow', options.version)),
    ledger,
    plan: options.plan,
    flush: (deadlineMs = FLUSH_DEADLINE_MS) => withDeadline(provider.forceFlush(), deadlineMs),
    shutdown: async (deadlineMs = FLUSH_DEADLINE_MS) => {
      const report = await withDeadline(provider.shutdown(), deadlineMs);
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

/** The exporter for a plan, recording into `ledger`; also used on its own by `traces push`, without a provider. */
export async function createExporter(plan: ExportPlan, ledger: ExportLedger): Promise<SpanExporter> {
  switch (plan.kind) {
    case 'otlp':
      return new OtlpTraceExporter({
        http: plan.http,
        path: '/v1/traces',
        headers: { 'x-mlflow-experiment-id': plan.experimentId, ...runLinkHeaders(plan.runLink) },
        encoding: plan.encoding,
        gzip: plan.gzip,
        route: 'otlp',
        ledger,
        ...(plan.runLink && { runLink: plan.runLink }),
      });
    case 'uc':
      return new OtlpTraceExporter({
        http: plan.http,
        path: '/api/2.0/otel/v1/traces',
        headers: { 'X-Databricks-UC-Table-Name': plan.table },
        encoding: 'protobuf',
        gzip: true,
        route: 'uc',
        ledger,
      });
    case 'rest':
      return new RestTraceExporter({
        http: plan.http,
        experimentId: plan.experimentId,
        artifactUpload: plan.artifactUpload,
        ledger,
        ...(plan.runLink && { runLink: plan.runLink }),
      });
    case 'local': {
      const { LocalStoreExporter } = await import('../local-store/local-store-exporter.ts');
      return new LocalStoreExporter({ dir: plan.dir, ledger });
    }
    case 'collector': {
      // Loaded only here: most runs never talk to a collector.
      const { OTLPTraceExporter } =
        plan.encoding === 'json'
          ? await import('@opentelemetry/exporter-trace-otlp-http')
          : await import('@opentelemetry/exporter-trace-otlp-proto');
      return new RecordingExporter(new OTLPTraceExporter({ url: plan.endpoint, headers: plan.headers }), ledger);
    }
  }
}
