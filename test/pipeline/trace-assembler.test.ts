import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { INTERRUPTED_ATTRIBUTE, TraceAssembler } from '../../src/pipeline/assemble/trace-assembler.ts';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';

function setup(options: { maxOpenTraces?: number } = {}) {
  const traces: ReadableSpan[][] = [];
  const assembler = new TraceAssembler({ onTrace: (spans) => traces.push(spans), ...options });
  const tracer = new TracerProvider({ spanProcessors: [assembler] }).getTracer('t');
  return { traces, assembler, tracer };
}

const names = (traces: ReadableSpan[][]) => traces.map((spans) => spans.map((s) => s.name).sort());

describe('TraceAssembler', () => {
  it('hands on each trace whole once its root ends, never mixing traces', () => {
    const { traces, tracer } = setup();
    const rootA = tracer.startSpan('a');
    const rootB = tracer.startSpan('b');
    tracer.startSpan('a.child', {}, trace.setSpan(context.active(), rootA)).end();
    tracer.startSpan('b.child', {}, trace.setSpan(context.active(), rootB)).end();
    assert.equal(traces.length, 0, 'nothing goes on while roots are open');
    rootB.end();
    rootA.end();
    assert.deepEqual(names(traces), [
      ['b', 'b.child'],
      ['a', 'a.child'],
    ]);
  });

  it('treats a span with a remote parent (incoming traceparent) as the local root', () => {
    const { traces, tracer } = setup();
    const remote = trace.setSpanContext(context.active(), {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
      isRemote: true,
    });
    tracer.startSpan('server', {}, remote).end();
    assert.equal(traces.length, 1);
    assert.equal(traces[0]![0]!.parentSpanContext?.isRemote, true);
  });

  it('past its limit of open traces stores the oldest as it is (in progress) instead of holding more', () => {
    const { traces, assembler, tracer } = setup({ maxOpenTraces: 2 });
    for (const name of ['one', 'two', 'three']) {
      const root = tracer.startSpan(name);
      tracer.startSpan(`${name}.step`, {}, trace.setSpan(context.active(), root)).end();
    }
    assert.deepEqual(names(traces), [['one.step']]);
    assert.equal(assembler.openTraceCount, 2);
  });

  it('on shutdown ends what is still running as ERROR, marked interrupted, so the trace is kept whole', async () => {
    const { traces, assembler, tracer } = setup();
    const root = tracer.startSpan('POST /chat');
    tracer.startSpan('chat gpt', {}, trace.setSpan(context.active(), root));
    const done = tracer.startSpan('retrieve', {}, trace.setSpan(context.active(), root));
    done.end();
    await assembler.shutdown();
    assert.deepEqual(names(traces), [['POST /chat', 'chat gpt', 'retrieve']]);
    const interrupted = traces[0]!
      .filter((span) => span.attributes[INTERRUPTED_ATTRIBUTE] === true)
      .map((s) => s.name)
      .sort();
    assert.deepEqual(interrupted, ['POST /chat', 'chat gpt']);
    const rootSpan = traces[0]!.find((span) => span.name === 'POST /chat')!;
    assert.equal(rootSpan.status.code, SpanStatusCode.ERROR);
    assert.match(rootSpan.status.message ?? '', /interrupted/);
  });
});
