import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { decodeOtlpProtobuf } from '../../src/otlp/otlp-decode.ts';
import { encodeLocalSpans, encodeSpans, type WireAttributes } from '../../src/otlp/otlp-encode.ts';
import { toLocalSpans } from '../../src/otlp/to-local-spans.ts';
import type { LocalSpan } from '../../src/spans/local-span.ts';
import { toReadableSpans } from '../../src/spans/readable-spans.ts';
import { attributes, handMadeSpan, pick, random, reference, sdkSpans, wireValue, type Random } from './span-generators.ts';

/**
 * The encoder against the reference, otlp-transformer's ProtobufTraceSerializer: the same bytes for
 * many varied spans, made by the SDK, by hand (values the SDK would not keep) and from stored spans.
 */

function assertSameBytes(actual: Uint8Array, expected: Uint8Array, seed: number): void {
  assert.ok(Buffer.from(actual).equals(expected), `seed ${seed}: ${actual.length} bytes written, ${expected.length} expected`);
}

/** Stored spans: as the relay decodes them, then as a store keeps them (JSON), with merges of several. */
function localSpans(next: Random): LocalSpan[] {
  const handMade = [...sdkSpans(next), ...sdkSpans(next)];
  const decoded = toLocalSpans(decodeOtlpProtobuf(reference(handMade))).spans;
  const traceId = decoded[0]!.traceId;
  // Spans of one trace from two requests: equal resources that are different objects, a parent that arrives.
  const merged = decoded.map((span, i) => ({
    ...span,
    traceId,
    ...(i % 3 === 1 && { resource: { ...span.resource } }),
    ...(i % 4 === 2 && { parentSpanId: decoded[0]!.spanId, parentIsRemote: true as const }),
    ...(i === 1 && { scope: { name: 'no-version' } }),
  }));
  return next() < 0.5 ? merged : (JSON.parse(JSON.stringify(merged)) as LocalSpan[]);
}

const SEEDS = Array.from({ length: 150 }, (_, i) => i + 1);

describe('OTLP protobuf encoding', () => {
  it('writes what the OpenTelemetry serializer writes for SDK spans of several resources and scopes', () => {
    for (const seed of SEEDS) {
      const spans = sdkSpans(random(seed));
      assertSameBytes(encodeSpans(spans), reference(spans), seed);
    }
  });

  it('writes what the serializer writes for values the SDK would not keep: objects, nested arrays, bytes, empty values', () => {
    for (const seed of SEEDS) {
      const next = random(seed);
      const resources = [resourceFromAttributes({ 'service.name': 'a' }), resourceFromAttributes({}, { schemaUrl: 'https://s' })];
      const scopes = [{ name: 'a' }, { name: 'b', version: '1', schemaUrl: 'https://s' }, { name: 'c', version: '' }];
      const spans = Array.from({ length: 1 + Math.floor(next() * 6) }, () => handMadeSpan(next, pick(next, resources), pick(next, scopes)));
      assertSameBytes(encodeSpans(spans), reference(spans), seed);
    }
  });

  it('puts the attributes it is given on the wire in place of the spans’ own', () => {
    for (const seed of SEEDS.slice(0, 50)) {
      const next = random(seed);
      const spans = sdkSpans(next);
      const wire: WireAttributes[] = spans.map(() => attributes(next, (n) => wireValue(n)));
      const replaced = spans.map((span, i): ReadableSpan => {
        const copy = Object.create(span) as ReadableSpan;
        Object.defineProperty(copy, 'attributes', { value: wire[i] });
        return copy;
      });
      assertSameBytes(encodeSpans(spans, wire), reference(replaced), seed);
    }
  });

  it('writes stored spans as the serializer writes them rebuilt as SDK spans', () => {
    for (const seed of SEEDS) {
      const spans = localSpans(random(seed));
      assertSameBytes(encodeLocalSpans(spans), reference(toReadableSpans(spans)), seed);
    }
  });

  it('keeps a stored resource as the SDK keeps one: no empty keys, no values it cannot hold', () => {
    const [span] = localSpans(random(1));
    const odd = { ...span!, resource: { 'service.name': 's', '': 'empty key', nested: { a: 1 } as never, list: ['a', 'b'] as never } };
    assertSameBytes(encodeLocalSpans([odd]), reference(toReadableSpans([odd])), 1);
  });

  it('gives each request bytes of its own, whatever is encoded next', () => {
    const first = sdkSpans(random(7));
    const bytes = encodeSpans(first);
    const copy = Buffer.from(bytes);
    encodeSpans(sdkSpans(random(8)));
    assert.ok(copy.equals(bytes));
  });

  it('reads back as the spans it was given', () => {
    const spans = sdkSpans(random(3));
    const decoded = decodeOtlpProtobuf(encodeSpans(spans)).flatMap((resourceSpans) => resourceSpans.spans);
    assert.deepEqual(decoded.map((span) => span.spanId.toString('hex')).sort(), spans.map((span) => span.spanContext().spanId).sort());
  });
});
