import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { context, trace } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { TracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
import { TraceGroupingProcessor } from '../../src/tracing/trace-grouping-processor.ts';

class CollectingExporter implements SpanExporter {
  calls: ReadableSpan[][] = [];
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.calls.push(spans);
    done({ code: ExportResultCode.SUCCESS });
  }
  async shutdown(): Promise<void> {}
}

function setup() {
  const exporter = new CollectingExporter();
  const processor = new TraceGroupingProcessor(exporter);
  const tracer = new TracerProvider({ spanProcessors: [processor] }).getTracer('t');
  return { exporter, processor, tracer };
}

describe('TraceGroupingProcessor', () => {
  it('exports each trace in one call once its root ends, never mixing traces', async () => {
    const { exporter, processor, tracer } = setup();
    const rootA = tracer.startSpan('a');
    const rootB = tracer.startSpan('b');
    tracer.startSpan('a.child', {}, trace.setSpan(context.active(), rootA)).end();
    tracer.startSpan('b.child', {}, trace.setSpan(context.active(), rootB)).end();
    assert.equal(exporter.calls.length, 0, 'nothing goes out while roots are open');
    rootB.end();
    rootA.end();
    await processor.forceFlush();
    assert.deepEqual(
      exporter.calls.map((call) => call.map((s) => s.name).sort()),
      [['b', 'b.child'], ['a', 'a.child']],
    );
  });

  it('treats a span with a remote parent (incoming traceparent) as the local root', async () => {
    const { exporter, processor, tracer } = setup();
    const remote = trace.setSpanContext(context.active(), {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
      isRemote: true,
    });
    tracer.startSpan('server', {}, remote).end();
    await processor.forceFlush();
    assert.equal(exporter.calls.length, 1);
  });

  it('keeps a trace with an open root on flush, and sends it anyway on shutdown', async () => {
    const { exporter, processor, tracer } = setup();
    const root = tracer.startSpan('long');
    tracer.startSpan('step', {}, trace.setSpan(context.active(), root)).end();
    await processor.forceFlush();
    assert.equal(exporter.calls.length, 0);
    assert.equal(processor.pendingTraceCount, 1);
    await processor.shutdown();
    assert.deepEqual(exporter.calls.map((c) => c.map((s) => s.name)), [['step']]);
  });
});
