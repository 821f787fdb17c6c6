/**
 * Speed checks reported as ratios measured in one run, so the machine's speed cancels out:
 * - CLI start-up: `otel-mlflow --help` against a bare `node -e 0`;
 * - export work per trace: serialising a doctor-shaped trace for OTLP and for REST, against creating
 *   its spans with the OpenTelemetry SDK.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { sendTestTrace } from '../src/doctor/test-traces.ts';
import { buildRestTracePayload } from '../src/tracing/rest-trace-payload.ts';

const BIN = fileURLToPath(new URL('../bin/otel-mlflow.js', import.meta.url));
const STARTUP_RUNS = 15;
const TRACE_RUNS = 2000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function timeProcess(args: string[]): number {
  const samples: number[] = [];
  for (let i = 0; i < STARTUP_RUNS; i++) {
    const started = performance.now();
    const result = spawnSync(process.execPath, args, { stdio: 'ignore' });
    if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}`);
    samples.push(performance.now() - started);
  }
  return median(samples);
}

function timePerCall(work: () => void): number {
  for (let i = 0; i < 200; i++) work();
  const started = performance.now();
  for (let i = 0; i < TRACE_RUNS; i++) work();
  return ((performance.now() - started) / TRACE_RUNS) * 1000;
}

const bare = timeProcess(['-e', '0']);
const help = timeProcess([BIN, '--help']);

const exporter = new InMemorySpanExporter();
const tracer = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }).getTracer('bench');
let spans: ReadableSpan[] = [];
const createUs = timePerCall(() => {
  exporter.reset();
  sendTestTrace(tracer, 0, 'bench');
  spans = exporter.getFinishedSpans();
});
const otlpUs = timePerCall(() => ProtobufTraceSerializer.serializeRequest(spans));
const restUs = timePerCall(() => buildRestTracePayload(spans, '1'));

const rows = [
  ['cli start-up: --help / node -e 0', `${help.toFixed(1)} ms / ${bare.toFixed(1)} ms`, help / bare],
  ['OTLP protobuf body / creating the 4 spans', `${otlpUs.toFixed(1)} µs / ${createUs.toFixed(1)} µs`, otlpUs / createUs],
  ['REST payload (info + traces.json) / creating the 4 spans', `${restUs.toFixed(1)} µs / ${createUs.toFixed(1)} µs`, restUs / createUs],
] as const;
for (const [name, raw, ratio] of rows) console.log(`${name.padEnd(58)} ${raw.padEnd(24)} ratio ${ratio.toFixed(2)}`);
