import assert from 'node:assert/strict';
import { TraceFlags } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { describe, it } from 'node:test';
import { PromptSpanProcessor, type SpanSender } from '../../src/preload/prompt-span-processor.ts';

function span(name: string, traceFlags = TraceFlags.SAMPLED): ReadableSpan {
  return { name, spanContext: () => ({ traceId: '1'.repeat(32), spanId: '2'.repeat(16), traceFlags }) } as unknown as ReadableSpan;
}

/** What the processor handed over, batch by batch; every batch written out at once. */
function recordingSender(): SpanSender & { batches: string[][]; kept: string[][] } {
  const batches: string[][] = [];
  const kept: string[][] = [];
  return {
    batches,
    kept,
    send: async (spans, written) => {
      batches.push(spans.map((s) => s.name));
      written();
    },
    keepAtExit: (spans) => kept.push(spans.map((s) => s.name)),
  };
}

describe('the preload hands spans over promptly', () => {
  it('sends what ended within 0.1 s together, 0.1 s after the first of them ended, not seconds later', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const sender = recordingSender();
    const processor = new PromptSpanProcessor(sender);
    processor.onEnd(span('POST /chat'));
    t.mock.timers.tick(60);
    processor.onEnd(span('chat gpt-4o-mini'));
    t.mock.timers.tick(39);
    assert.deepEqual(sender.batches, [], 'still within 0.1 s of the first span');
    t.mock.timers.tick(1);
    assert.deepEqual(sender.batches, [['POST /chat', 'chat gpt-4o-mini']]);
    processor.onEnd(span('next request'));
    t.mock.timers.tick(100);
    assert.deepEqual(sender.batches.at(-1), ['next request']);
  });

  it('sends a burst at once, and unsampled spans never', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const sender = recordingSender();
    const processor = new PromptSpanProcessor(sender);
    processor.onEnd(span('not sampled', TraceFlags.NONE));
    for (let i = 0; i < 512; i++) processor.onEnd(span(`s${i}`));
    assert.equal(sender.batches.length, 1);
    assert.equal(sender.batches[0]!.length, 512);
    assert.ok(!sender.batches[0]!.includes('not sampled'));
  });

  it('keeps what it has not sent when the program ends now', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const sender = recordingSender();
    const processor = new PromptSpanProcessor(sender);
    processor.onEnd(span('last request'));
    processor.keepUnsent();
    assert.deepEqual(sender.kept, [['last request']]);
    t.mock.timers.tick(100);
    assert.deepEqual(sender.batches, [], 'kept once, not sent again');
  });
});
