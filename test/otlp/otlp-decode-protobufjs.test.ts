import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { decodeOtlpProtobuf, OtlpDecodeError, type OtlpResourceSpans } from '../../src/otlp/otlp-decode.ts';
import { Utf8Repairs } from '../../src/otlp/utf8-repairs.ts';
import { errorMessage } from '../../src/errors.ts';
import { protobufjsDecode } from './protobufjs-decode.ts';
import { pb } from './receivers-fixture.ts';
import { handMadeSpan, pick, random, reference, sdkSpans, type Random } from './span-generators.ts';

/**
 * The hand-written protobuf decoder against the protobufjs-based one it replaced (protobufjs-decode.ts,
 * as it was in src/otlp/otlp-decode.ts): the same spans, the same repairs, and a refusal wherever it refused,
 * for requests as serializers write them and for requests cut, corrupted and rearranged.
 */

type Decode = (bytes: Uint8Array, repairs?: Utf8Repairs) => OtlpResourceSpans[];
type Outcome = { refused: true } | { request: OtlpResourceSpans[]; repairCount: number; repairs: string };

function outcome(decode: Decode, bytes: Uint8Array, repaired: boolean): Outcome {
  const repairs = repaired ? new Utf8Repairs() : undefined;
  try {
    const request = decode(bytes, repairs);
    return { request, repairCount: repairs?.count ?? 0, repairs: repairs?.describe() ?? '' };
  } catch (error) {
    if (decode === decodeOtlpProtobuf && !(error instanceof OtlpDecodeError)) throw error;
    return Object.defineProperty({ refused: true as const }, 'why', { value: errorMessage(error) });
  }
}

/** Both decoders, with and without repairs, give the same spans and repairs, or both refuse; returns the outcome with repairs. */
function assertSameDecode(bytes: Uint8Array, label: string): Outcome {
  let last: Outcome | undefined;
  for (const repaired of [false, true]) {
    const expected = outcome(protobufjsDecode, bytes, repaired);
    const actual = outcome(decodeOtlpProtobuf, bytes, repaired);
    assert.deepStrictEqual(
      actual,
      expected,
      `${label}${repaired ? ', with repairs' : ''}: ${Buffer.from(bytes).subarray(0, 64).toString('hex')}`,
    );
    last = actual;
  }
  return last!;
}

// ---- Requests rearranged at the level of fields: parsed into a tree of fields (a length-delimited
// field whose bytes read as fields is taken for a message), changed, written back with right lengths.

interface WireField {
  field: number;
  wireType: number;
  /** The bytes after the tag (a length-delimited field's without its length). */
  payload: Buffer;
  children?: WireField[];
}

function varint(value: number | bigint): Buffer {
  const bytes: number[] = [];
  let rest = BigInt(value);
  while (rest >= 0x80n) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return Buffer.from(bytes);
}

function parseFields(bytes: Buffer, depth = 0): WireField[] | undefined {
  const fields: WireField[] = [];
  let pos = 0;
  const readVarint = (): number | undefined => {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = bytes[pos++];
      if (byte === undefined) return undefined;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    return undefined;
  };
  while (pos < bytes.length) {
    const tag = readVarint();
    if (tag === undefined || tag >>> 3 === 0) return undefined;
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    const start = pos;
    if (wireType === 0) {
      if (readVarint() === undefined) return undefined;
      fields.push({ field, wireType, payload: bytes.subarray(start, pos) });
    } else if (wireType === 1 || wireType === 5) {
      pos += wireType === 1 ? 8 : 4;
      if (pos > bytes.length) return undefined;
      fields.push({ field, wireType, payload: bytes.subarray(start, pos) });
    } else if (wireType === 2) {
      const length = readVarint();
      if (length === undefined || pos + length > bytes.length) return undefined;
      const payload = bytes.subarray(pos, pos + length);
      pos += length;
      const children = depth < 12 && payload.length > 0 ? parseFields(payload, depth + 1) : undefined;
      fields.push({ field, wireType, payload, ...(children && { children }) });
    } else {
      return undefined;
    }
  }
  return fields;
}

function writeFields(fields: WireField[]): Buffer {
  return Buffer.concat(
    fields.map(({ field, wireType, payload, children }) => {
      const tag = varint(field * 8 + wireType);
      if (wireType !== 2) return Buffer.concat([tag, payload]);
      const content = children ? writeFields(children) : payload;
      return Buffer.concat([tag, varint(content.length), content]);
    }),
  );
}

/** Every list of fields in the tree: a message's fields. */
function messages(fields: WireField[], into: WireField[][] = []): WireField[][] {
  into.push(fields);
  for (const field of fields) if (field.children) messages(field.children, into);
  return into;
}

function unknownField(next: Random): WireField {
  const field = pick(next, [17, 18, 31, 1000, 536_870_911]);
  switch (pick(next, [0, 1, 2, 3, 5])) {
    case 0:
      return { field, wireType: 0, payload: varint(BigInt(Math.floor(next() * 2 ** 32)) * BigInt(Math.floor(next() * 2 ** 32))) };
    case 1:
      return { field, wireType: 1, payload: Buffer.alloc(8, 7) };
    case 5:
      return { field, wireType: 5, payload: Buffer.alloc(4, 9) };
    case 2:
      return { field, wireType: 2, payload: Buffer.from('unknown') };
    default: {
      // A group, written whole: its fields then its end tag.
      const inner = writeFields([{ field: 1, wireType: 0, payload: varint(5) }]);
      const nested = Buffer.concat([varint(2 * 8 + 3), inner, varint(2 * 8 + 4)]);
      return { field, wireType: 3, payload: Buffer.concat([next() < 0.5 ? nested : inner, varint(field * 8 + 4)]) };
    }
  }
}

/** A field of the same number as another wire type: any reader must skip it as unknown. */
function rewired(field: WireField, next: Random): WireField {
  const wireType = pick(
    next,
    [0, 1, 2, 5].filter((type) => type !== field.wireType),
  );
  const payload =
    wireType === 0 ? varint(300) : wireType === 1 ? Buffer.alloc(8, 1) : wireType === 5 ? Buffer.alloc(4, 1) : Buffer.from('x');
  return { field: field.field, wireType, payload };
}

function mutate(fields: WireField[], next: Random): void {
  const all = messages(fields);
  const message = pick(next, all);
  const at = Math.floor(next() * (message.length + 1));
  const some = message.length > 0 ? message[Math.floor(next() * message.length)]! : undefined;
  const kind = next();
  if (kind < 0.2 && some) message.splice(at, 0, structuredClone(some));
  else if (kind < 0.35 && some) message.push(message.splice(message.indexOf(some), 1)[0]!);
  else if (kind < 0.45 && some) message.splice(message.indexOf(some), 1);
  else if (kind < 0.65) message.splice(at, 0, unknownField(next));
  else if (kind < 0.8 && some) message.splice(at, 0, rewired(some, next));
  else if (kind < 0.9 && message.length > 1) message.reverse();
  else if (some?.wireType === 2 && some.children === undefined) {
    // A string's bytes made invalid UTF-8, or empty.
    some.payload = next() < 0.7 ? Buffer.concat([some.payload, Buffer.from([0xc3])]) : Buffer.alloc(0);
  } else if (some?.wireType === 0) {
    some.payload = pick(next, [
      varint(0),
      varint(1),
      varint(2n ** 64n - 1n),
      Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]),
    ]);
  }
}

/** Small requests of everything a span can carry, as the SDK's serializer writes them. */
function smallRequests(count: number): { seed: number; bytes: Buffer }[] {
  const requests: { seed: number; bytes: Buffer }[] = [];
  for (let seed = 1; requests.length < count; seed++) {
    const next = random(seed);
    const spans =
      seed % 2 === 0
        ? sdkSpans(next)
        : Array.from({ length: 1 + Math.floor(next() * 3) }, () =>
            handMadeSpan(next, resourceFromAttributes({ 'service.name': 'a', list: [1, 2] }), { name: 'scope', version: '1' }),
          );
    const bytes = reference(spans);
    if (bytes.length < 4000) requests.push({ seed, bytes });
  }
  return requests;
}

describe('OTLP protobuf decoding against protobufjs', () => {
  it('reads what the SDK serializer writes as protobufjs read it: every value kind, events, links, remote parents, several resources and scopes', () => {
    for (let seed = 1; seed <= 150; seed++) {
      assertSameDecode(reference(sdkSpans(random(seed))), `SDK spans of seed ${seed}`);
    }
  });

  it('reads values the SDK would not keep as protobufjs read them: nested arrays and kvlists, bytes, empty values, odd ids', () => {
    for (let seed = 1; seed <= 150; seed++) {
      const next = random(seed);
      const resources = [resourceFromAttributes({ 'service.name': 'a' }), resourceFromAttributes({}, { schemaUrl: 'https://s' })];
      const scopes = [{ name: 'a' }, { name: 'b', version: '1', schemaUrl: 'https://s' }, { name: 'c', version: '' }];
      const spans = Array.from({ length: 1 + Math.floor(next() * 6) }, () => handMadeSpan(next, pick(next, resources), pick(next, scopes)));
      const outcome = assertSameDecode(reference(spans), `hand-made spans of seed ${seed}`);
      assert.ok(!('refused' in outcome), `seed ${seed} is refused`);
    }
  });

  it('reads requests rearranged as no serializer writes them as protobufjs read them: fields repeated, reordered, unknown, of other wire types', () => {
    let accepted = 0;
    let repaired = 0;
    for (const { seed, bytes } of smallRequests(60)) {
      const next = random(seed * 7919);
      for (let round = 0; round < 40; round++) {
        const fields = parseFields(bytes)!;
        for (let change = 1 + Math.floor(next() * 3); change > 0; change--) mutate(fields, next);
        const outcome = assertSameDecode(writeFields(fields), `seed ${seed}, round ${round}`);
        if (!('refused' in outcome)) accepted += 1;
        if ('repairCount' in outcome && outcome.repairCount > 0) repaired += 1;
      }
    }
    // Most rearranged requests stay readable, and some are readable only with repairs: both paths are exercised.
    assert.ok(accepted > 1000, `${accepted} accepted`);
    assert.ok(repaired > 20, `${repaired} repaired`);
  });

  it('refuses corrupted bytes where protobufjs refused them, always with an OtlpDecodeError', () => {
    for (const { seed, bytes } of smallRequests(30)) {
      const next = random(seed * 104_729);
      for (let round = 0; round < 60; round++) {
        const corrupt = Buffer.from(bytes);
        for (let change = 1 + Math.floor(next() * 3); change > 0; change--)
          corrupt[Math.floor(next() * corrupt.length)] = Math.floor(next() * 256);
        assertSameDecode(corrupt, `seed ${seed}, round ${round}`);
      }
    }
  });

  it('refuses a request cut at any byte, as protobufjs did, with an OtlpDecodeError', () => {
    // One resource's spans: the only cut that leaves whole fields is the empty request.
    const { bytes } = smallRequests(1)[0]!;
    assert.equal(bytes[0], 0x0a);
    assert.equal(parseFields(bytes)?.length, 1);
    const accepted: number[] = [];
    for (let length = 0; length < bytes.length; length++) {
      if (!('refused' in assertSameDecode(bytes.subarray(0, length), `cut at ${length}`))) accepted.push(length);
    }
    assert.deepEqual(accepted, [0]);
  });

  it('refuses messages nested past 100 levels, in values and in unknown groups, as protobufjs did, without overflowing the stack', () => {
    for (const levels of [40, 47, 48, 49, 50, 51, 60, 100_000])
      assertSameDecode(pb.resourceAttribute(pb.nestedArrays(levels)), `${levels} levels`);
    for (const levels of [95, 96, 97, 98, 99, 100, 101]) {
      const group = Buffer.concat([
        ...Array.from({ length: levels }, () => varint(20 * 8 + 3)),
        varint(1 * 8 + 0),
        Buffer.from([1]),
        ...Array.from({ length: levels }, () => varint(20 * 8 + 4)),
      ]);
      assertSameDecode(pb.field(1, pb.field(2, pb.field(2, group))), `a group ${levels} deep in a span`);
    }
  });

  it('reads edge cases of the wire as protobufjs did: long varints, long tags and lengths, field 0, stray end groups', () => {
    const eleven = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x80, 0x00]);
    const ten = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    const span = (content: Buffer) => pb.field(1, pb.field(2, pb.field(2, content)));
    const cases: Record<string, Buffer> = {
      'kind as a ten-byte varint': span(Buffer.concat([varint(6 * 8), ten])),
      'kind as an eleven-byte varint': span(Buffer.concat([varint(6 * 8), eleven])),
      'an unknown eleven-byte varint': span(Buffer.concat([varint(40 * 8), eleven])),
      'an int attribute of ten bytes': pb.resourceAttribute(Buffer.concat([varint(3 * 8), ten])),
      'a bool attribute of 0x80 0x00': pb.resourceAttribute(Buffer.from([0x10, 0x80, 0x00])),
      'a bool attribute of 0x80 0x01': pb.resourceAttribute(Buffer.from([0x10, 0x80, 0x01])),
      'a bool attribute of eleven bytes': pb.resourceAttribute(Buffer.concat([Buffer.from([0x10]), eleven])),
      'a five-byte tag': span(Buffer.concat([Buffer.from([0xf8, 0xff, 0xff, 0xff, 0x0f]), Buffer.from([1])])),
      'a tag past 32 bits': span(Buffer.concat([Buffer.from([0xf8, 0xff, 0xff, 0xff, 0x1f]), Buffer.from([1])])),
      'a padded tag': span(Buffer.from([0xa8, 0x80, 0x00, 0x01])),
      'a padded length': pb.field(1, Buffer.concat([Buffer.from([0x0a, 0x80, 0x80, 0x00])])),
      'a length of five bytes': Buffer.concat([Buffer.from([0x0a, 0x80, 0x80, 0x80, 0x80, 0x00])]),
      'a length past 2^31': Buffer.concat([Buffer.from([0x0a, 0x80, 0x80, 0x80, 0x80, 0x08])]),
      'field 0': span(Buffer.from([0x00, 0x01])),
      'field 0 as a length': span(Buffer.from([0x02, 0x00])),
      'an end group with no group': span(Buffer.from([0xa4, 0x01])),
      'a group ended by another field': span(Buffer.from([0xa3, 0x01, 0xac, 0x01])),
      'a group never ended': span(Buffer.from([0xa3, 0x01, 0x08, 0x01])),
      'wire type 6': span(Buffer.from([0x0e])),
      'a fixed64 time cut short': span(Buffer.from([0x39, 1, 2, 3])),
      'a time of 2^64 - 1': span(Buffer.concat([Buffer.from([0x39]), Buffer.alloc(8, 0xff)])),
      'flags of 2^32 - 1': span(Buffer.concat([Buffer.from([0x85, 0x01]), Buffer.alloc(4, 0xff)])),
      'a negative kind': span(Buffer.concat([varint(6 * 8), varint(2n ** 64n - 2n)])),
      'a status code of 2^32 + 2': span(pb.field(15, Buffer.concat([varint(3 * 8), varint(2n ** 32n + 2n)]))),
      'a trailing partial tag': Buffer.from([0x0a, 0x00, 0x80]),
      'an empty request': Buffer.alloc(0),
    };
    for (const [label, bytes] of Object.entries(cases)) assertSameDecode(bytes, label);
  });

  it('reads a request given as a Uint8Array that is not a Buffer', () => {
    const bytes = reference(sdkSpans(random(5)));
    const copy = new Uint8Array(bytes.length + 3).subarray(3);
    copy.set(bytes);
    assert.deepStrictEqual(decodeOtlpProtobuf(copy), protobufjsDecode(bytes));
  });
});
