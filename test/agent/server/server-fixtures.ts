import { context, propagation, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace';
import type {
  AgentService,
  AgentTaskRequest,
  AgentTaskResult,
  ChatRequest,
  ChatResult,
  ChatStreamEvent,
  RagRequest,
  RagResult,
} from '../../../src/agent/types.ts';
import { createApp } from '../../../src/agent/server/app.ts';
import type { AppDeps } from '../../../src/agent/server/server-env.ts';

// What the serve bootstrap registers globally: without them nothing nests and traceparent is ignored.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());

export interface MemoryTracing {
  tracer: Tracer;
  spans(): ReadableSpan[];
  /** Resolves when a span of that name has ended (at once if one already has). */
  ended(name: string): Promise<ReadableSpan>;
}

export function memoryTracing(): MemoryTracing {
  const exporter = new InMemorySpanExporter();
  const waiters: { name: string; resolve: (span: ReadableSpan) => void }[] = [];
  const notifier: SpanProcessor = {
    onStart: () => undefined,
    onEnd: (span) => {
      for (const waiter of waiters.filter((w) => w.name === span.name)) waiter.resolve(span);
    },
    forceFlush: async () => undefined,
    shutdown: async () => undefined,
  };
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter }), notifier] });
  return {
    tracer: provider.getTracer('server-test'),
    spans: () => exporter.getFinishedSpans(),
    ended: (name) => {
      const done = exporter.getFinishedSpans().find((span) => span.name === name);
      return done ? Promise.resolve(done) : new Promise((resolve) => waiters.push({ name, resolve }));
    },
  };
}

export const USAGE = { input_tokens: 11, output_tokens: 7, total_tokens: 18 };

/** Answers from fixed text, opening one child span per call as the real agent does. */
export class StubAgent implements AgentService {
  readonly tracer: Tracer;
  readonly requests: unknown[] = [];
  /** Thrown by every call when set. */
  failure: unknown;
  constructor(tracer: Tracer) {
    this.tracer = tracer;
  }

  chat(request: ChatRequest): Promise<ChatResult> {
    return this.work('stub_llm', request, () => ({ answer: `stub answer to: ${request.query}`, model: 'stub-model', usage: USAGE }));
  }

  async *chatStream(request: ChatRequest, _signal: AbortSignal): AsyncIterable<ChatStreamEvent> {
    const result = await this.chat(request);
    yield { type: 'done', result };
  }

  rag(request: RagRequest): Promise<RagResult> {
    return this.work('stub_retrieve', request, () => ({
      answer: `stub rag answer to: ${request.query}`,
      model: 'stub-model',
      sources: [{ id: 'mlflow-tracing', title: 'MLflow Tracing', score: 0.9, url: 'https://mlflow.org/docs/latest/genai/tracing/' }],
      usage: USAGE,
    }));
  }

  agentTask(request: AgentTaskRequest): Promise<AgentTaskResult> {
    return this.work('stub_step', request, () => ({
      answer: `stub agent answer to: ${request.task}`,
      model: 'stub-model',
      finished: true,
      steps: [{ step: 1, tool_calls: [{ name: 'calculator', arguments: { expression: '6*7' }, result: { value: 42 } }] }],
      usage: USAGE,
    }));
  }

  private async work<T>(spanName: string, request: unknown, answer: () => T): Promise<T> {
    this.requests.push(request);
    const span = this.tracer.startSpan(spanName);
    try {
      if (this.failure !== undefined) throw this.failure;
      return answer();
    } finally {
      span.end();
    }
  }
}

export const HEALTH = {
  status: 'ok' as const,
  version: '9.9.9',
  tracing: { destination: 'MLflow at http://127.0.0.1:5000 (OTLP)', experiment: { id: '7', name: 'serve-test' }, route: 'otlp' },
  llm: { provider: 'offline', model: 'stub-model' },
  uptime_seconds: 3,
};

export function testApp(overrides: Partial<AppDeps> & { tracing?: MemoryTracing } = {}) {
  const tracing = overrides.tracing ?? memoryTracing();
  const agent = new StubAgent(tracing.tracer);
  const logLines: string[] = [];
  const app = createApp({
    agent,
    tracer: tracing.tracer,
    info: () => HEALTH,
    log: (line) => logLines.push(line),
    ...overrides,
  });
  return { app, agent, tracing, logLines };
}

export function postJson(
  app: ReturnType<typeof createApp>,
  path: string,
  body: unknown,
  init: { headers?: Record<string, string>; signal?: AbortSignal } = {},
) {
  return app.request(path, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...init.headers },
    ...(init.signal && { signal: init.signal }),
  });
}

export interface SseEvent {
  event: string;
  data: unknown;
}

export function parseSse(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const lines = block.split('\n');
      const event = lines.find((line) => line.startsWith('event: '))?.slice('event: '.length) ?? 'message';
      const data = lines
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice('data: '.length))
        .join('\n');
      return { event, data: JSON.parse(data) as unknown };
    });
}
