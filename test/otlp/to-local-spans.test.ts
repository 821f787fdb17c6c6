import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { decodeOtlpJson, decodeOtlpProtobuf } from '../../src/otlp/otlp-decode.ts';
import { toLocalSpans } from '../../src/otlp/to-local-spans.ts';
import { otlpProtobuf, readableSpan } from '../fakes/readable-spans.ts';

const TRACE = '5B8EFFF798038103D269B633813FC60C';
const SPAN = 'EEE19B7EC3C1B174';
const PARENT = 'EEE19B7EC3C1B173';

/** One OTLP/JSON request with one span, written by hand as a non-JS SDK would send it. */
function jsonRequest(span: Record<string, unknown>, resourceAttributes: unknown[] = []): unknown {
  return {
    resourceSpans: [
      {
        resource: { attributes: resourceAttributes },
        scopeSpans: [{ scope: { name: 'my.library', version: '1.0.0' }, spans: [{ traceId: TRACE, spanId: SPAN, name: 'op', ...span }] }],
      },
    ],
  };
}

function onlySpan(span: Record<string, unknown>, resourceAttributes: unknown[] = []) {
  const { spans, rejected } = toLocalSpans(decodeOtlpJson(jsonRequest(span, resourceAttributes)));
  assert.equal(rejected, 0);
  assert.equal(spans.length, 1);
  return spans[0]!;
}

const attribute = (key: string, value: unknown) => ({ key, value });

describe('OTLP spans to store spans', () => {
  it('reads ids as lowercase hex, times as decimal strings, enums by name or number, and the scope', () => {
    const span = onlySpan({
      parentSpanId: PARENT,
      kind: 'SPAN_KIND_CLIENT',
      startTimeUnixNano: '1544712660000000000',
      endTimeUnixNano: 1544712661000000000,
      status: { code: 2, message: 'boom' },
    });
    assert.equal(span.traceId, TRACE.toLowerCase());
    assert.equal(span.spanId, SPAN.toLowerCase());
    assert.equal(span.parentSpanId, PARENT.toLowerCase());
    assert.equal(span.kind, SpanKind.CLIENT);
    assert.equal(span.startTimeUnixNano, '1544712660000000000');
    assert.equal(span.endTimeUnixNano, '1544712661000000000');
    assert.deepEqual(span.status, { code: 2, message: 'boom' });
    assert.deepEqual(span.scope, { name: 'my.library', version: '1.0.0' });
  });

  it("maps the wire's span kinds onto the SDK's (UNSPECIFIED and unknown ones as INTERNAL)", () => {
    const kinds = [0, 1, 2, 3, 4, 5, 9].map((kind) => onlySpan({ kind }).kind);
    assert.deepEqual(kinds, [
      SpanKind.INTERNAL,
      SpanKind.INTERNAL,
      SpanKind.SERVER,
      SpanKind.CLIENT,
      SpanKind.PRODUCER,
      SpanKind.CONSUMER,
      SpanKind.INTERNAL,
    ]);
  });

  it('marks a remote parent from the span flags, and only when the flags say so', () => {
    assert.equal(onlySpan({ parentSpanId: PARENT, flags: 0x301 }).parentIsRemote, true);
    assert.equal(onlySpan({ parentSpanId: PARENT, flags: 0x101 }).parentIsRemote, undefined);
    assert.equal(onlySpan({ parentSpanId: PARENT, flags: 0x201 }).parentIsRemote, undefined, 'IS_REMOTE without HAS_IS_REMOTE');
    assert.equal(onlySpan({ flags: 0x301 }).parentIsRemote, undefined, 'a root has no parent to be remote');
  });

  it('treats an all-zero parent id as no parent', () => {
    assert.equal(onlySpan({ parentSpanId: '0000000000000000' }).parentSpanId, null);
  });

  it('keeps scalar attributes, with 64-bit ints as numbers when safe and as text when not', () => {
    const span = onlySpan({
      attributes: [
        attribute('s', { stringValue: 'text' }),
        attribute('b', { boolValue: true }),
        attribute('d', { doubleValue: 0.5 }),
        attribute('nan', { doubleValue: 'NaN' }),
        attribute('i', { intValue: '42' }),
        attribute('big', { intValue: '9007199254740993' }),
        attribute('negative', { intValue: -7 }),
        attribute('raw', { bytesValue: 'AAEC' }),
        attribute('empty', {}),
      ],
    });
    assert.deepEqual(span.attributes, {
      s: 'text',
      b: true,
      d: 0.5,
      nan: 'NaN',
      i: 42,
      big: '9007199254740993',
      negative: -7,
      raw: 'AAEC',
    });
  });

  it('keeps homogeneous arrays of scalars as arrays', () => {
    const array = (...values: unknown[]) => ({ arrayValue: { values } });
    const span = onlySpan({
      attributes: [
        attribute('strings', array({ stringValue: 'a' }, { stringValue: 'b' })),
        attribute('numbers', array({ intValue: '1' }, { doubleValue: 2.5 })),
        attribute('bools', array({ boolValue: false })),
        attribute('none', array()),
      ],
    });
    assert.deepEqual(span.attributes, { strings: ['a', 'b'], numbers: [1, 2.5], bools: [false], none: [] });
  });

  it('turns kvlists and mixed arrays into JSON text, as the SDK records object values', () => {
    const messages = {
      arrayValue: {
        values: [{ kvlistValue: { values: [attribute('role', { stringValue: 'user' }), attribute('content', { stringValue: 'hi' })] } }],
      },
    };
    const span = onlySpan({
      attributes: [
        attribute('mlflow.spanInputs', { kvlistValue: { values: [attribute('messages', messages), attribute('n', { intValue: '2' })] } }),
        attribute('mixed', { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 1 }, {}] } }),
        attribute('nested', { arrayValue: { values: [{ arrayValue: { values: [{ boolValue: true }] } }] } }),
      ],
    });
    assert.equal(span.attributes['mlflow.spanInputs'], '{"messages":[{"role":"user","content":"hi"}],"n":2}');
    assert.equal(span.attributes.mixed, '["a",1,null]');
    assert.equal(span.attributes.nested, '[[true]]');
  });

  it('keeps a key named __proto__ as an ordinary attribute', () => {
    const span = onlySpan({
      attributes: [attribute('__proto__', { arrayValue: { values: [{ stringValue: 'x' }] } }), attribute('after', { boolValue: true })],
    });
    assert.deepEqual(Object.getPrototypeOf(span.attributes), Object.prototype);
    assert.deepEqual(Object.keys(span.attributes), ['__proto__', 'after']);
    assert.equal(JSON.stringify(span.attributes), '{"__proto__":["x"],"after":true}');
  });

  it('keeps event names, times and attributes', () => {
    const span = onlySpan({
      events: [
        { name: 'exception', timeUnixNano: '1544712660500000000', attributes: [attribute('exception.message', { stringValue: 'bad' })] },
      ],
    });
    assert.deepEqual(span.events, [{ name: 'exception', timeUnixNano: '1544712660500000000', attributes: { 'exception.message': 'bad' } }]);
  });

  it('keeps resource attributes as scalars, structured ones as JSON text', () => {
    const span = onlySpan({}, [
      attribute('service.name', { stringValue: 'billing' }),
      attribute('process.pid', { intValue: '4242' }),
      attribute('process.command_args', { arrayValue: { values: [{ stringValue: 'node' }, { stringValue: 'app.js' }] } }),
    ]);
    assert.deepEqual(span.resource, { 'service.name': 'billing', 'process.pid': 4242, 'process.command_args': '["node","app.js"]' });
  });

  it('rejects spans with unusable ids one by one, each reason once', () => {
    const request = {
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                { traceId: TRACE, spanId: SPAN, name: 'good' },
                { traceId: TRACE, spanId: '', name: 'no span id' },
                { traceId: TRACE, spanId: '0000000000000000', name: 'zero span id' },
                { traceId: 'abcd', spanId: SPAN, name: 'short trace id' },
                { traceId: TRACE, spanId: SPAN, parentSpanId: 'abcd', name: 'short parent' },
              ],
            },
          ],
        },
      ],
    };
    const { spans, rejected, reasons } = toLocalSpans(decodeOtlpJson(request));
    assert.deepEqual(
      spans.map((span) => span.name),
      ['good'],
    );
    assert.equal(rejected, 4);
    assert.deepEqual(reasons, [
      'span id must be 8 bytes, not all zero',
      'trace id must be 16 bytes, not all zero',
      'parent span id must be empty or 8 bytes',
    ]);
  });

  it('reads protobuf the same way as JSON', () => {
    const sdkSpan = readableSpan({
      traceId: TRACE.toLowerCase(),
      spanId: SPAN.toLowerCase(),
      parentSpanId: PARENT.toLowerCase(),
      name: 'op',
      attributes: { n: 3, tags: ['a'] },
      statusCode: 1,
    });
    const [span] = toLocalSpans(decodeOtlpProtobuf(otlpProtobuf([sdkSpan]))).spans;
    assert.equal(span?.parentSpanId, PARENT.toLowerCase());
    assert.deepEqual(span?.attributes, { n: 3, tags: ['a'] });
    assert.deepEqual(span?.status, { code: 1 });
  });
});
