import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { encodeLocalTrace, encodeTrace } from '../../src/destination/encode-trace.ts';
import { decodeTrace } from '../../src/destination/encoded-trace.ts';
import { toMlflowSpan } from '../../src/relay/translate-span.ts';
import type { LocalSpan } from '../../src/spans/local-span.ts';
import { toReadableSpans } from '../../src/spans/readable-spans.ts';
import { chatTrace, memoryTracer } from '../tracing/span-fixtures.ts';

/** The pipeline's fixed traces: serve's (streaming, tools, errors), the SDK's with a session, relayed ones. */
const golden = JSON.parse(readFileSync(new URL('../pipeline/golden/input-traces.json', import.meta.url), 'utf8')) as Record<
  'serve' | 'sdk' | 'relayed',
  LocalSpan[][]
>;

function assertSameEncoding(spans: LocalSpan[]): void {
  const direct = encodeLocalTrace(spans);
  const rebuilt = encodeTrace(toReadableSpans(spans));
  assert.ok(Buffer.from(direct.otlp).equals(rebuilt.otlp), `${spans[0]?.traceId}: the bytes differ`);
  assert.deepEqual({ ...direct, otlp: undefined }, { ...rebuilt, otlp: undefined });
}

describe('a stored trace encoded without rebuilding its spans', () => {
  it('gives the bytes and facts it gives rebuilt as SDK spans', () => {
    for (const spans of [...golden.serve, ...golden.sdk, ...golden.relayed.map((trace) => trace.map(toMlflowSpan))]) {
      assertSameEncoding(spans);
      // Without its root, as a trace still waiting for it is written.
      assertSameEncoding(spans.slice(1));
    }
  });

  it('gives what the trace gave when the SDK made it, once stored and read back', () => {
    const { tracer, finished } = memoryTracer();
    chatTrace(tracer, { session: 's-1' });
    const made = encodeTrace(finished());
    const again = encodeLocalTrace(decodeTrace(made.otlp));
    assert.ok(Buffer.from(again.otlp).equals(made.otlp));
    assert.deepEqual(again.facts, made.facts);
  });

  it('keeps a parent in another process remote only while the parent is not in the trace', () => {
    const [root, child] = golden.sdk[0]!;
    const remote = { ...root!, parentSpanId: 'aaaaaaaaaaaaaaaa', parentIsRemote: true as const };
    assert.equal(encodeLocalTrace([remote, child!]).facts.rootName, root!.name);
    assertSameEncoding([remote, child!]);
    assertSameEncoding([remote, { ...child!, parentSpanId: remote.spanId, parentIsRemote: true }]);
  });
});
