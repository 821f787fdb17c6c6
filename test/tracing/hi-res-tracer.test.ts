import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { hrTimeToNanoseconds } from '@opentelemetry/core';
import { hiResTracer } from '../../src/tracing/hi-res-tracer.ts';
import { memoryTracer } from './span-fixtures.ts';

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

const nanos = (time: [number, number]): bigint => BigInt(Math.round(hrTimeToNanoseconds(time)));

describe('hi-res tracer', () => {
  it('starts spans opened within one millisecond in order, with end and event times from the same clock', () => {
    const { tracer, finished } = memoryTracer();
    const hiRes = hiResTracer(tracer);
    for (const name of ['a', 'b', 'c', 'd']) {
      const span = hiRes.startSpan(name);
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
    for (const span of spans) {
      assert.ok(nanos(span.endTime) >= nanos(span.startTime), `${span.name} ends after it starts`);
      assert.ok(nanos(span.events[0]!.time) >= nanos(span.startTime), `${span.name}'s event is inside it`);
      assert.ok(nanos(span.endTime) >= nanos(span.events[0]!.time));
    }
  });

  it('keeps times the caller gives, and makes startActiveSpan the active span', () => {
    const { tracer, finished } = memoryTracer();
    const hiRes = hiResTracer(tracer);
    const parentId = hiRes.startActiveSpan('parent', { startTime: [1_795_538_125, 77] }, (parent) => {
      const child = hiRes.startSpan('child');
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
});
