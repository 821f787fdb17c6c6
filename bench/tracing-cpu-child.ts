/**
 * Makes `traces` doctor-shaped traces (4 spans each) in one process, under one of three span
 * processors, and prints the CPU the process used (all threads) until every span reached the sink:
 * `none` (no processor: the cost of making the spans), `stock` (the OpenTelemetry SDK's
 * BatchSpanProcessor and OTLPTraceExporter, protobuf, as any app would ship them), `pipeline`
 * (otel-mlflow's: assembly, one encoding, the fsynced store, delivery to an OTLP collector).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { sendTestTrace } from '../src/commands/doctor/test-traces.ts';
import { targetKey, type CollectorTarget } from '../src/destination/target.ts';
import { TracePipeline } from '../src/pipeline/trace-pipeline.ts';

const [mode, sinkUrl, count] = process.argv.slice(2) as ['none' | 'stock' | 'pipeline', string, string];
const traces = Number(count);
/** Traces made before the event loop gets a turn: a busy server's burst, not one trace per tick. */
const BURST = 50;
const WARMUP = 500;
const STOCK_FLUSH_EVERY = 1000;

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const storeDir = mkdtempSync(join(tmpdir(), 'otel-mlflow-bench-cpu-'));
let pipeline: TracePipeline | undefined;
const processors: SpanProcessor[] = [];
// A queue that holds the whole run: the stock processor drops spans past its queue, and dropped spans cost nothing.
if (mode === 'stock')
  processors.push(new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: sinkUrl }), maxQueueSize: traces * 4 }));
if (mode === 'pipeline') {
  const target: CollectorTarget = { kind: 'collector', endpoint: sinkUrl };
  pipeline = new TracePipeline({
    storeDir,
    target,
    destination: { kind: 'collector', target, key: targetKey(target), headers: {}, encoding: 'protobuf', notes: [] },
    origin: 'bench',
    deliverInBackground: true,
  });
  processors.push(pipeline.assembler);
}
const provider = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': 'bench' }), spanProcessors: processors });
const tracer = provider.getTracer('bench');

/** Makes the traces and waits until each has reached the sink. */
async function makeAndSend(from: number, to: number) {
  for (let i = from; i < to; i++) {
    sendTestTrace(tracer, i, 'bench');
    if (i % BURST === BURST - 1) await yieldToLoop();
    // An app's exporter keeps up as it goes: one flush of a whole run would send more requests at once
    // than the stock exporter allows in flight.
    if (mode === 'stock' && i % STOCK_FLUSH_EVERY === STOCK_FLUSH_EVERY - 1) await provider.forceFlush();
  }
  await provider.forceFlush();
  return pipeline ? await pipeline.flush(60_000) : undefined;
}

// Warmed up first, outside the measurement: the worker thread's start, the store's opening, the JIT.
await makeAndSend(0, WARMUP);
const before = process.cpuUsage();
const started = performance.now();
const report = await makeAndSend(WARMUP, WARMUP + traces);
const used = process.cpuUsage(before);
const wallMs = performance.now() - started;
if (report && report.delivered !== WARMUP + traces) throw new Error(`the pipeline delivered ${report.delivered} of ${traces} traces`);
await provider.shutdown();
await pipeline?.shutdown(10_000);
rmSync(storeDir, { recursive: true, force: true });
process.stdout.write(
  `${JSON.stringify({ cpuMs: (used.user + used.system) / 1000, wallMs, spans: traces * 4, sent: (WARMUP + traces) * 4 })}\n`,
);
