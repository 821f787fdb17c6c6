import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeOtlpProtobuf, OtlpDecodeError } from '../../src/otlp/otlp-decode.ts';
import { Utf8Repairs } from '../../src/otlp/utf8-repairs.ts';
import { otlpProtobuf, readableSpan } from '../fakes/readable-spans.ts';
import { pb } from './receivers-fixture.ts';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
/** A character cut short: 'a' then a byte that starts no UTF-8 sequence. */
const BAD = [0x61, 0xff];

/** A protobuf request whose markers (`~1`, `~2`…) become strings that are not valid UTF-8. */
function withBadStrings(markers: string[], ...spans: Parameters<typeof readableSpan>[0][]): Buffer {
  return markers.reduce((body, marker) => pb.replaced(body, marker, BAD), otlpProtobuf(spans.map(readableSpan)));
}

describe('OTLP protobuf strings that are not valid UTF-8', () => {
  const chat = { traceId: TRACE, spanId: 'b7ad6b7169203331', name: 'chat', attributes: { 'gen_ai.prompt': 'hi ~1' } };

  it('fail the decode without repairs, naming where, as Python protobuf refuses them (the fakes of MLflow rely on it)', () => {
    assert.throws(
      () => decodeOtlpProtobuf(withBadStrings(['~1'], chat)),
      (error: unknown) => {
        assert.ok(error instanceof OtlpDecodeError);
        assert.equal(error.message, "span 'chat', attribute 'gen_ai.prompt' is not valid UTF-8");
        return true;
      },
    );
  });

  it('are decoded with U+FFFD when repairs are asked for: keys, names, event and resource attributes alike, each place noted', () => {
    const repairs = new Utf8Repairs();
    const body = withBadStrings(['~1', '~2', '~3', '~4', '~5'], {
      ...chat,
      name: 'chat ~2',
      attributes: { 'gen_ai.prompt': 'hi ~1', 'key ~3': 'v' },
      events: [{ name: 'gen_ai.choice', attributes: { message: 'bye ~4' } }],
      resource: { 'service.name': 'agent ~5' },
    });
    const [resourceSpans] = decodeOtlpProtobuf(body, repairs);
    const [span] = resourceSpans!.spans;
    assert.equal(span?.name, 'chat a\uFFFD');
    assert.deepEqual(
      span?.attributes.map(({ key, value }) => [key, value]),
      [
        ['gen_ai.prompt', { kind: 'string', value: 'hi a\uFFFD' }],
        ['key a\uFFFD', { kind: 'string', value: 'v' }],
      ],
    );
    assert.deepEqual(span?.events[0]?.attributes[0]?.value, { kind: 'string', value: 'bye a\uFFFD' });
    assert.deepEqual(resourceSpans?.resourceAttributes[0]?.value, { kind: 'string', value: 'agent a\uFFFD' });
    assert.equal(repairs.count, 5);
    assert.equal(
      repairs.describe(),
      "5 string values were not valid UTF-8 and were repaired with U+FFFD (resource attribute 'service.name'; span name 'chat a\uFFFD'; " +
        "span 'chat a\uFFFD', attribute 'gen_ai.prompt'; 2 other places)",
    );
  });

  it('leave a valid request untouched and unreported', () => {
    const repairs = new Utf8Repairs();
    const [resourceSpans] = decodeOtlpProtobuf(
      otlpProtobuf([readableSpan({ ...chat, attributes: { 'gen_ai.prompt': 'héllo 😀 \uFFFD' } })]),
      repairs,
    );
    assert.deepEqual(resourceSpans?.spans[0]?.attributes[0]?.value, { kind: 'string', value: 'héllo 😀 \uFFFD' });
    assert.deepEqual([repairs.count, repairs.describe()], [0, '']);
  });
});

describe('OTLP protobuf attribute values', () => {
  it('take the last of several oneof members on the wire, as every protobuf reader does', () => {
    const stringThenBool = Buffer.concat([pb.field(1, Buffer.from('text')), Buffer.from([0x10, 0x01])]);
    const boolThenString = Buffer.concat([Buffer.from([0x10, 0x01]), pb.field(1, Buffer.from('text'))]);
    assert.deepEqual(decodeOtlpProtobuf(pb.resourceAttribute(stringThenBool))[0]?.resourceAttributes[0]?.value, {
      kind: 'bool',
      value: true,
    });
    assert.deepEqual(decodeOtlpProtobuf(pb.resourceAttribute(boolThenString))[0]?.resourceAttributes[0]?.value, {
      kind: 'string',
      value: 'text',
    });
  });
});
