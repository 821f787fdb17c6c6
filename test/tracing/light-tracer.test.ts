import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Span, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { hrTimeToNanoseconds, suppressTracing } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  InMemorySpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
  type Sampler,
} from '@opentelemetry/sdk-trace';
import { lightTracer } from '../../src/tracing/light-tracer.ts';
import { memoryTracer } from './span-fixtures.ts';

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

const nanos = (time: [number, number]): bigint => BigInt(Math.round(hrTimeToNanoseconds(time)));

describe('the tool’s tracer', () => {
  it('starts spans opened within one millisecond in order, with end and event times from the same clock', () => {
    const { tracer, finished } = memoryTracer();
    const before = Date.now();
    for (const name of ['a', 'b', 'c', 'd']) {
      const span = tracer.startSpan(name);
      span.addEvent('note', { step: name });
      span.end();
    }
    const spans = finished();
    const starts = spans.map((span) => span.startTime[0] * 1e9 + span.startTime[1]);
    for (let i = 1; i < starts.length; i++) assert.ok(starts[i - 1]! < starts[i]!, `${spans[i - 1]!.name} before ${spans[i]!.name}`);
    assert.ok(
      spans.some((span) => span.startTime[1] % 1_000_000 !== 0),
      'sub-millisecond',
    );
    const after = Date.now();
    for (const span of spans) {
      // Wall-clock time, as MLflow shows it, nanoseconds within their second. The margin is the process's monotonic clock
      // drifting from the wall clock since it started (as with the SDK's own clock), far below a second carried wrong.
      const startMs = Number(nanos(span.startTime) / 1_000_000n);
      assert.ok(startMs >= before - 500 && startMs <= after + 500, `${span.name} starts at ${startMs}, not at ${before}..${after}`);
      assert.ok(span.startTime[1] >= 0 && span.startTime[1] < 1e9 && span.endTime[1] < 1e9);
      assert.ok(nanos(span.endTime) >= nanos(span.startTime), `${span.name} ends after it starts`);
      assert.ok(nanos(span.events[0]!.time) >= nanos(span.startTime), `${span.name}'s event is inside it`);
      assert.ok(nanos(span.endTime) >= nanos(span.events[0]!.time));
    }
  });

  it('keeps times the caller gives, and makes startActiveSpan the active span', () => {
    const { tracer, finished } = memoryTracer();
    const parentId = tracer.startActiveSpan('parent', { startTime: [1_795_538_125, 77] }, (parent: Span) => {
      const child = tracer.startSpan('child');
      child.end();
      parent.end([1_795_538_126, 0]);
      return parent.spanContext().spanId;
    });
    const [child, parent] = finished();
    assert.deepEqual(parent!.startTime, [1_795_538_125, 77]);
    assert.deepEqual(parent!.endTime, [1_795_538_126, 0]);
    assert.equal(child!.parentSpanContext?.spanId, parentId);
    assert.equal(trace.getActiveSpan(), undefined);
  });

  it('records what the SDK’s own spans record, for every kind of value and change', () => {
    const sdk = sdkTracer();
    const light = memoryTracer();
    const remoteParent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: 'a'.repeat(32),
      spanId: 'b'.repeat(16),
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    const failure = Object.assign(new Error('boom'), { code: 'ECONNRESET' });
    const play = (tracer: Tracer) => {
      const span = tracer.startSpan(
        'GET /items',
        {
          kind: SpanKind.SERVER,
          attributes: { 'http.request.method': 'GET', 'url.path': '/items', ignored: undefined, '': 'no key' },
          links: [{ context: { traceId: 'c'.repeat(32), spanId: 'd'.repeat(16), traceFlags: 1 }, attributes: { why: 'batch' } }],
        },
        remoteParent,
      );
      span.setAttribute('count', 3);
      span.setAttribute('ratio', 0.5);
      span.setAttribute('ok', true);
      span.setAttribute('tags', ['a', 'b']);
      span.setAttribute('mixed', [1, 'two', null] as never);
      span.setAttribute('nested', { role: 'user', parts: [{ text: 'hi' }], skipped: undefined } as never);
      span.setAttribute('bytes', new Uint8Array([1, 2]) as never);
      span.setAttribute('count', 4);
      span.setAttribute('not a value', (() => 1) as never);
      span.setAttributes({ 'many.0': 0, 'many.1': 1 });
      for (let i = 0; i < 130; i++) span.setAttribute(`filler.${i}`, i);
      span.addEvent('retry', { attempt: 2, bad: { nested: true } as never });
      span.recordException(failure);
      span.addLink({ context: { traceId: 'e'.repeat(32), spanId: 'f'.repeat(16), traceFlags: 0 } });
      span.updateName('GET /items/:id');
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'HTTP 503' });
      span.setStatus({ code: SpanStatusCode.UNSET });
      span.end();
      span.setAttribute('after end', 1);
      span.updateName('renamed after end');
    };
    play(sdk.tracer);
    play(light.tracer);
    const [expected] = sdk.finished();
    const [actual] = light.finished();
    assert.deepEqual(recorded(actual!), recorded(expected!));
  });

  it('keeps OK once set, as the SDK does, and an error message only on errors', () => {
    const { tracer, finished } = memoryTracer();
    const ok = tracer.startSpan('ok');
    ok.setStatus({ code: SpanStatusCode.OK, message: 'dropped' });
    ok.setStatus({ code: SpanStatusCode.ERROR, message: 'too late' });
    ok.end();
    assert.deepEqual(finished()[0]!.status, { code: SpanStatusCode.OK });
  });

  it('asks the sampler: a span not sampled is not recorded yet carries its context on; suppressed tracing makes none', () => {
    const off = tracerWith(new ParentBasedSampler({ root: new AlwaysOffSampler() }));
    const span = off.tracer.startSpan('unsampled root');
    assert.equal(span.isRecording(), false);
    assert.equal(trace.isSpanContextValid(span.spanContext()), true);
    const child = off.tracer.startSpan('child', {}, trace.setSpan(ROOT_CONTEXT, span));
    assert.equal(child.spanContext().traceId, span.spanContext().traceId);
    span.end();
    child.end();
    assert.deepEqual(off.finished(), []);
    assert.deepEqual(off.started, []);

    const on = tracerWith(new AlwaysOnSampler());
    const suppressed = on.tracer.startSpan('suppressed', {}, suppressTracing(ROOT_CONTEXT));
    assert.equal(trace.isSpanContextValid(suppressed.spanContext()), false);
    const recorded = on.tracer.startSpan('recorded', { root: true }, trace.setSpan(ROOT_CONTEXT, span));
    assert.equal(recorded.isRecording(), true);
    assert.notEqual(recorded.spanContext().traceId, span.spanContext().traceId, 'root: a trace of its own');
    recorded.end();
    recorded.end();
    assert.deepEqual(on.started, ['recorded']);
    assert.deepEqual(
      on.finished().map((s) => s.name),
      ['recorded'],
      'ended once',
    );
  });
});

/** The SDK's own tracer with the same sampler and processors, as the reference. */
function sdkTracer(): { tracer: Tracer; finished: () => ReadableSpan[] } {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'test' }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  return { tracer: provider.getTracer('test'), finished: () => exporter.getFinishedSpans() };
}

function tracerWith(sampler: Sampler): { tracer: Tracer; finished: () => ReadableSpan[]; started: string[] } {
  const exporter = new InMemorySpanExporter();
  const started: string[] = [];
  const spanProcessors = [
    new SimpleSpanProcessor({ exporter }),
    {
      onStart: (span: ReadableSpan) => void started.push(span.name),
      onEnd: () => undefined,
      forceFlush: async () => undefined,
      shutdown: async () => undefined,
    },
  ];
  const tracer = lightTracer({ resource: resourceFromAttributes({}), sampler, spanProcessors, scope: { name: 'test' } });
  return { tracer, finished: () => exporter.getFinishedSpans(), started };
}

/** What a span records, without its ids and times (new for every span). */
function recorded(span: ReadableSpan) {
  return {
    name: span.name,
    kind: span.kind,
    parent: span.parentSpanContext && { ...span.parentSpanContext },
    traceId: span.spanContext().traceId,
    flags: span.spanContext().traceFlags,
    attributes: span.attributes,
    droppedAttributesCount: span.droppedAttributesCount,
    events: span.events.map(({ name, attributes, droppedAttributesCount }) => ({ name, attributes, droppedAttributesCount })),
    droppedEventsCount: span.droppedEventsCount,
    links: span.links,
    droppedLinksCount: span.droppedLinksCount,
    status: span.status,
    ended: span.ended,
    resource: span.resource.attributes,
    scope: span.instrumentationScope.name,
  };
}
