import { context, propagation, type ProxyTracerProvider, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { defaultResource, detectResources, resourceAttributesEnvDetector, serviceNameEnvDetector } from '@opentelemetry/resources';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import module from 'node:module';
import workerThreads from 'node:worker_threads';
import { lightTracer } from '../tracing/light-tracer.ts';
import { nameFastifyRoutes } from './fastify-routes.ts';
import { FrameworkSpans, traceHttpServers } from './http-server-spans.ts';
import { hookPackages } from './hook-packages.ts';
import { otlpHttpSender } from './otlp-http-sender.ts';
import { preloadSettings } from './preload-settings.ts';
import { PromptSpanProcessor } from './prompt-span-processor.ts';
import { samplerFromEnv } from './sampler-from-env.ts';

/** Where run's --require leaves the tracer provider it registered for this preload (see claim-api-global.cts). */
const DEFERRED_PROVIDER = Symbol.for('otel-mlflow.deferred-tracer-provider');

/**
 * Loaded into the program by `otel-mlflow run` (`node --import`), before the program's own code:
 * one tracer provider for the program, its HTTP servers and LLM clients traced, every finished span
 * handed to the tool's receiver within a fraction of a second. The store and the delivery stay in
 * the tool's process; nothing here prints, so the program's output is its own.
 *
 * The program's worker threads run it too, each with its own provider and sender, so an LLM call
 * made in a worker is traced as well (its own trace: a worker does not share the request's
 * context). Node's own threads are left alone. So are workers on a Node without in-thread module
 * hooks (before 22.15): there each worker would start a module-hooks thread of its own, about half
 * a second of CPU per worker, which a program's worker pool must not pay.
 */
const inThreadHooks = typeof (module as { registerHooks?: unknown }).registerHooks === 'function';
const traced = workerThreads.isMainThread || (inThreadHooks && !workerThreads.isInternalThread);
const settings = traced ? preloadSettings(process.env) : undefined;
if (settings) {
  const sender = otlpHttpSender(settings.tracesUrl, settings.spoolDirs);
  const resource = defaultResource().merge(detectResources({ detectors: [resourceAttributesEnvDetector, serviceNameEnvDetector] }));
  const sampler = samplerFromEnv(process.env);
  const spanProcessors = [new FrameworkSpans(), new PromptSpanProcessor(sender)];
  const provider = new TracerProvider({ resource, sampler, spanProcessors });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
  // The provider run's --require registered in the API's slot for this one (see claim-api-global.cts), else none yet.
  const deferred = (globalThis as Record<symbol, unknown>)[DEFERRED_PROVIDER] as ProxyTracerProvider | undefined;
  if (deferred) deferred.setDelegate(provider);
  else trace.setGlobalTracerProvider(provider);
  const tracer = lightTracer({ resource, sampler, spanProcessors, scope: { name: 'otel-mlflow' } });
  traceHttpServers({ tracer, captureContent: settings.captureContent });
  nameFastifyRoutes();
  await hookPackages({ tracer, captureContent: settings.captureContent, contentAttributes: settings.contentAttributes });
}
