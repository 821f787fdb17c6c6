/**
 * Speed checks of single operations, reported as ratios measured in one run so the machine's speed cancels out:
 * - CLI start-up: `otel-mlflow --help` against a bare `node -e 0`;
 * - export work per trace: serialising a doctor-shaped trace for OTLP and for REST, against creating
 *   its spans with the OpenTelemetry SDK;
 * - OpenAI auto-tracing: a RAG-sized `chat.completions.create()` with content capture, traced against
 *   untraced, both answered instantly from memory by a custom `fetch` (target: at most 40 µs added);
 * - OTLP protobuf decoding of an app's request and of a full batch, against protobufjs.
 */
import { spawnSync } from 'node:child_process';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import OpenAI from 'openai';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { sendTestTrace } from '../src/commands/doctor/test-traces.ts';
import { instrumentOpenAI } from '../src/tracing/openai/instrument-openai.ts';
import { encodeTrace } from '../src/destination/encode-trace.ts';
import { buildRestTracePayload } from '../src/destination/rest-trace-payload.ts';
import { BIN } from './children.ts';
import { benchOtlpDecode } from './otlp-decode.ts';
import { median, type Row } from './stats.ts';

const STARTUP_RUNS = 15;
const TRACE_RUNS = 2000;
const CALL_RUNS = 2000;
const CALL_ROUNDS = 7;

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

async function timePerAsyncCall(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < CALL_RUNS; i++) await work();
  return ((performance.now() - started) / CALL_RUNS) * 1000;
}

/** Median µs per call of each, measured in alternating rounds so drift hits both alike. */
async function compareAsync(a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<[number, number]> {
  for (let i = 0; i < 200; i++) await Promise.all([a(), b()]);
  const aSamples: number[] = [];
  const bSamples: number[] = [];
  for (let round = 0; round < CALL_ROUNDS; round++) {
    aSamples.push(await timePerAsyncCall(a));
    bSamples.push(await timePerAsyncCall(b));
  }
  return [median(aSamples), median(bSamples)];
}

export async function benchMicro(): Promise<Row[]> {
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
  const otlpUs = timePerCall(() => encodeTrace([...spans]));
  const restUs = timePerCall(() => buildRestTracePayload(spans, '1'));

  const ragRequest: ChatCompletionCreateParamsNonStreaming = {
    model: 'gpt-4o-mini',
    temperature: 0.2,
    messages: [
      {
        role: 'system',
        content: `Answer from the context only.\n\nContext:\n${'MLflow Tracing records each step of an LLM app as a span. '.repeat(40)}`,
      },
      { role: 'user', content: 'How does MLflow show the steps of my agent?' },
    ],
  };
  const completionBody = JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1_767_225_600,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'Each step is a span in the trace. '.repeat(20), refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 520, completion_tokens: 160, total_tokens: 680 },
  });
  const inMemoryOpenAI = () =>
    new OpenAI({
      apiKey: 'sk-bench',
      baseURL: 'http://openai.bench.invalid/v1',
      maxRetries: 0,
      fetch: async () => new Response(completionBody, { headers: { 'content-type': 'application/json' } }),
    });
  const untraced = inMemoryOpenAI();
  const traced = instrumentOpenAI(inMemoryOpenAI(), { tracer, provider: 'openai', captureContent: true, contentAttributes: 'mlflow' });
  const [tracedUs, untracedUs] = await compareAsync(
    () => {
      exporter.reset();
      return traced.chat.completions.create(ragRequest);
    },
    () => untraced.chat.completions.create(ragRequest),
  );

  const addedUs = tracedUs - untracedUs;
  return [
    { name: 'cli start-up: --help / node -e 0', raw: `${help.toFixed(1)} ms / ${bare.toFixed(1)} ms`, ratio: help / bare },
    {
      name: 'encode a trace once (OTLP + summary) / creating the 4 spans',
      raw: `${otlpUs.toFixed(1)} µs / ${createUs.toFixed(1)} µs`,
      ratio: otlpUs / createUs,
    },
    {
      name: 'REST payload (info + traces.json) / creating the 4 spans',
      raw: `${restUs.toFixed(1)} µs / ${createUs.toFixed(1)} µs`,
      ratio: restUs / createUs,
    },
    {
      name: 'openai create(): traced / untraced, in-memory fetch',
      raw: `${tracedUs.toFixed(1)} µs / ${untracedUs.toFixed(1)} µs (+${addedUs.toFixed(1)} µs)`,
      ratio: tracedUs / untracedUs,
      target: '+≤ 40 µs',
      met: addedUs <= 40,
    },
    ...benchOtlpDecode(),
  ];
}
