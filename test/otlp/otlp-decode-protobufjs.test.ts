import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import {
  decodeOtlpProtobuf,
  OtlpDecodeError,
  type OtlpAnyValue,
  type OtlpKeyValue,
  type OtlpResourceSpans,
  type OtlpSpan,
} from '../../src/otlp/otlp-decode.ts';
import { Utf8Repairs } from '../../src/otlp/utf8-repairs.ts';
import { errorMessage } from '../../src/errors.ts';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { pb } from './receivers-fixture.ts';
import { handMadeSpan, pick, random, reference, sdkSpans, type Random } from './span-generators.ts';

/**
 * The hand-written protobuf decoder against the protobufjs-based one it replaced (below, as it was in
 * src/otlp/otlp-decode.ts): the same spans, the same repairs, and a refusal wherever it refused,
 * for requests as serializers write them and for requests cut, corrupted and rearranged.
 */

// ---- The reference: protobufjs with the schema of opentelemetry-proto, then a walk into the plain shape.

const MAX_VALUE_DEPTH = 50;

// Strings are read as bytes and decoded below: protobufjs either refuses a whole request for one string
// that is not valid UTF-8 or replaces its bytes without a word, and the relay must do neither.
const TEXT = 'bytes';
const PRESENT = { features: { field_presence: 'EXPLICIT' } };
const keyValueFields = { key: { type: TEXT, id: 1 }, value: { type: 'AnyValue', id: 2 } };
const schema = {
  nested: {
    otlp: {
      nested: {
        AnyValue: {
          // A oneof in the proto. Declared as one here, protobufjs deletes the six other members on
          // every value it reads; as plain fields with presence (a oneof member's, so that a `false`
          // or a 0 is still told from nothing) it does not (see #anyValue for which member wins).
          fields: {
            stringValue: { type: TEXT, id: 1, options: PRESENT },
            boolValue: { type: 'bool', id: 2, options: PRESENT },
            intValue: { type: 'int64', id: 3, options: PRESENT },
            doubleValue: { type: 'double', id: 4, options: PRESENT },
            arrayValue: { type: 'ArrayValue', id: 5, options: PRESENT },
            kvlistValue: { type: 'KeyValueList', id: 6, options: PRESENT },
            bytesValue: { type: 'bytes', id: 7, options: PRESENT },
          },
        },
        ArrayValue: { fields: { values: { rule: 'repeated', type: 'AnyValue', id: 1 } } },
        KeyValueList: { fields: { values: { rule: 'repeated', type: 'KeyValue', id: 1 } } },
        KeyValue: { fields: keyValueFields },
        InstrumentationScope: {
          fields: {
            name: { type: TEXT, id: 1 },
            version: { type: TEXT, id: 2 },
            attributes: { rule: 'repeated', type: 'KeyValue', id: 3 },
            droppedAttributesCount: { type: 'uint32', id: 4 },
          },
        },
        Resource: {
          fields: {
            attributes: { rule: 'repeated', type: 'KeyValue', id: 1 },
            droppedAttributesCount: { type: 'uint32', id: 2 },
          },
        },
        Status: { fields: { message: { type: TEXT, id: 2 }, code: { type: 'int32', id: 3 } } },
        Event: {
          fields: {
            timeUnixNano: { type: 'fixed64', id: 1 },
            name: { type: TEXT, id: 2 },
            attributes: { rule: 'repeated', type: 'KeyValue', id: 3 },
            droppedAttributesCount: { type: 'uint32', id: 4 },
          },
        },
        Link: {
          fields: {
            traceId: { type: 'bytes', id: 1 },
            spanId: { type: 'bytes', id: 2 },
            traceState: { type: TEXT, id: 3 },
            attributes: { rule: 'repeated', type: 'KeyValue', id: 4 },
            droppedAttributesCount: { type: 'uint32', id: 5 },
            flags: { type: 'fixed32', id: 6 },
          },
        },
        Span: {
          fields: {
            traceId: { type: 'bytes', id: 1 },
            spanId: { type: 'bytes', id: 2 },
            traceState: { type: TEXT, id: 3 },
            parentSpanId: { type: 'bytes', id: 4 },
            flags: { type: 'fixed32', id: 16 },
            name: { type: TEXT, id: 5 },
            kind: { type: 'int32', id: 6 },
            startTimeUnixNano: { type: 'fixed64', id: 7 },
            endTimeUnixNano: { type: 'fixed64', id: 8 },
            attributes: { rule: 'repeated', type: 'KeyValue', id: 9 },
            droppedAttributesCount: { type: 'uint32', id: 10 },
            events: { rule: 'repeated', type: 'Event', id: 11 },
            droppedEventsCount: { type: 'uint32', id: 12 },
            links: { rule: 'repeated', type: 'Link', id: 13 },
            droppedLinksCount: { type: 'uint32', id: 14 },
            status: { type: 'Status', id: 15 },
          },
        },
        ScopeSpans: {
          fields: {
            scope: { type: 'InstrumentationScope', id: 1 },
            spans: { rule: 'repeated', type: 'Span', id: 2 },
            schemaUrl: { type: TEXT, id: 3 },
          },
        },
        ResourceSpans: {
          fields: {
            resource: { type: 'Resource', id: 1 },
            scopeSpans: { rule: 'repeated', type: 'ScopeSpans', id: 2 },
            schemaUrl: { type: TEXT, id: 3 },
          },
        },
        ExportTraceServiceRequest: { fields: { resourceSpans: { rule: 'repeated', type: 'ResourceSpans', id: 1 } } },
      },
    },
  },
};

const requestType = protobuf.Root.fromJSON(schema).lookupType('otlp.ExportTraceServiceRequest');

// Decoded protobufjs messages, as far as this module reads them. A string field (bytes here) left
// out of the message reads as protobufjs's default, an empty array.
type PbText = Uint8Array | undefined;
interface PbLong {
  low: number;
  high: number;
}
interface PbAnyValue {
  stringValue?: PbText;
  boolValue?: boolean;
  intValue?: number | PbLong;
  doubleValue?: number;
  arrayValue?: { values: PbAnyValue[] };
  kvlistValue?: { values: PbKeyValue[] };
  bytesValue?: Uint8Array;
}
interface PbKeyValue {
  key: PbText;
  value?: PbAnyValue;
}
interface PbSpan {
  traceId: Uint8Array;
  spanId: Uint8Array;
  parentSpanId: Uint8Array;
  traceState: PbText;
  flags: number;
  name: PbText;
  kind: number;
  startTimeUnixNano: number | PbLong;
  endTimeUnixNano: number | PbLong;
  attributes: PbKeyValue[];
  droppedAttributesCount: number;
  events: { timeUnixNano: number | PbLong; name: PbText; attributes: PbKeyValue[] }[];
  droppedEventsCount: number;
  links: { traceState: PbText; attributes: PbKeyValue[] }[];
  droppedLinksCount: number;
  status?: { code: number; message: PbText };
}
interface PbScope {
  name: PbText;
  version: PbText;
  attributes: PbKeyValue[];
}
interface PbRequest {
  resourceSpans: {
    resource?: { attributes: PbKeyValue[] };
    scopeSpans: { scope?: PbScope; spans: PbSpan[]; schemaUrl: PbText }[];
    schemaUrl: PbText;
  }[];
}

/** The decoder the hand-written one replaced, kept as it was. */
function protobufjsDecode(bytes: Uint8Array, repairs?: Utf8Repairs): OtlpResourceSpans[] {
  let message: PbRequest;
  try {
    message = requestType.decode(bytes) as unknown as PbRequest;
  } catch (error) {
    throw new OtlpDecodeError(errorMessage(error));
  }
  return new ProtobufRequestReader(repairs).read(message);
}

function longToBigInt(value: number | PbLong, signed: boolean): bigint {
  if (typeof value === 'number') return BigInt(value);
  const bits = (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0);
  return signed ? BigInt.asIntN(64, bits) : bits;
}

/** A field's bytes as a Buffer over the same memory; a field left out reads as protobufjs's default, an empty array. */
function bytesView(bytes: Uint8Array): Buffer {
  if (Buffer.isBuffer(bytes)) return bytes;
  return bytes instanceof Uint8Array ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : Buffer.from(bytes);
}

function tooDeep(): never {
  throw new OtlpDecodeError(`attribute values nest deeper than ${MAX_VALUE_DEPTH} levels`);
}

/** A client's text in a place description: quoted, cut short. */
function shown(text: string): string {
  return `'${text.length > 60 ? `${text.slice(0, 60)}…` : text}'`;
}

type TextField =
  | 'attribute'
  | 'attribute key'
  | 'scope name'
  | 'span name'
  | 'event name'
  | 'version'
  | 'trace state'
  | 'status message'
  | 'schema url';

/**
 * One decoded message read into the plain shape. It knows where in the request it is (which span,
 * which event) only to say where a string was not valid UTF-8.
 */
class ProtobufRequestReader {
  readonly #repairs: Utf8Repairs | undefined;
  #part: 'resource' | 'scope' | 'span' | 'event' | 'link' = 'resource';
  #scopeName = '';
  #spanName = '';
  #eventName = '';

  constructor(repairs: Utf8Repairs | undefined) {
    this.#repairs = repairs;
  }

  read(message: PbRequest): OtlpResourceSpans[] {
    return message.resourceSpans.map((resourceSpans) => {
      this.#part = 'resource';
      const resourceAttributes = this.#attributes(resourceSpans.resource?.attributes ?? []);
      this.#text(resourceSpans.schemaUrl, 'schema url');
      return {
        resourceAttributes,
        spans: resourceSpans.scopeSpans.flatMap((scopeSpans) => {
          this.#part = 'scope';
          this.#scopeName = this.#text(scopeSpans.scope?.name, 'scope name');
          const scope = { name: this.#scopeName, version: this.#text(scopeSpans.scope?.version, 'version') };
          // Scope attributes are not kept; read only so that a bad string among them is told like any other.
          this.#attributes(scopeSpans.scope?.attributes ?? []);
          this.#text(scopeSpans.schemaUrl, 'schema url');
          return scopeSpans.spans.map((span) => this.#span(span, scope));
        }),
      };
    });
  }

  /** A string field as text; `key` is the attribute it belongs to, if any. */
  #text(bytes: PbText, field: TextField, key?: string): string {
    if (bytes === undefined || bytes.length === 0) return '';
    const buffer = bytesView(bytes);
    const text = buffer.toString('utf8');
    if (isUtf8(buffer)) return text;
    const place = this.#place(field, text, key);
    if (!this.#repairs) throw new OtlpDecodeError(`${place} is not valid UTF-8`);
    this.#repairs.add(place);
    return text;
  }

  /** Where a bad string is, for a person: `span 'chat', attribute 'gen_ai.prompt'`. */
  #place(field: TextField, text: string, key: string | undefined): string {
    switch (field) {
      case 'scope name':
      case 'span name':
        return `${field} ${shown(text)}`;
      case 'event name':
        return `span ${shown(this.#spanName)}, event name ${shown(text)}`;
      case 'attribute':
        return `${this.#where()}attribute ${shown(key ?? '')}`;
      case 'attribute key':
        return `${this.#where()}attribute key ${shown(key === undefined ? text : `${key}.${text}`)}`;
      default:
        return `${this.#where()}${field}`;
    }
  }

  #where(): string {
    switch (this.#part) {
      case 'resource':
        return 'resource ';
      case 'scope':
        return `scope ${shown(this.#scopeName)}, `;
      case 'span':
        return `span ${shown(this.#spanName)}, `;
      case 'event':
        return `span ${shown(this.#spanName)}, event ${shown(this.#eventName)}, `;
      case 'link':
        return `span ${shown(this.#spanName)}, link `;
    }
  }

  #anyValue(value: PbAnyValue | null | undefined, depth: number, key: string): OtlpAnyValue {
    // The one change from the decoder as it was: protobufjs leaves a key's missing value null, on which
    // it threw a TypeError; the plain shape (and Python's protobuf) reads it as an empty value.
    if (value === undefined || value === null) return { kind: 'empty' };
    if (depth > MAX_VALUE_DEPTH) tooDeep();
    // Own keys keep the order in which members first came on the wire: the last of them is the one a
    // protobuf oneof keeps (a member sent again after another, which no encoder writes, keeps its first place).
    const members = Object.keys(value) as (keyof PbAnyValue)[];
    switch (members[members.length - 1]) {
      case 'stringValue':
        return { kind: 'string', value: this.#text(value.stringValue, 'attribute', key) };
      case 'boolValue':
        return { kind: 'bool', value: value.boolValue ?? false };
      case 'intValue':
        return { kind: 'int', value: longToBigInt(value.intValue ?? 0, true) };
      case 'doubleValue':
        return { kind: 'double', value: value.doubleValue ?? 0 };
      case 'arrayValue':
        return { kind: 'array', values: (value.arrayValue?.values ?? []).map((item) => this.#anyValue(item, depth + 1, key)) };
      case 'kvlistValue':
        return { kind: 'kvlist', values: (value.kvlistValue?.values ?? []).map((kv) => this.#keyValue(kv, depth + 1, key)) };
      case 'bytesValue':
        return { kind: 'bytes', value: Buffer.from(value.bytesValue ?? []) };
      default:
        return { kind: 'empty' };
    }
  }

  /** `outerKey`: the attribute a nested kvlist entry belongs to, which is what a person looks for. */
  #keyValue(kv: PbKeyValue, depth: number, outerKey?: string): OtlpKeyValue {
    const key = this.#text(kv.key, 'attribute key', outerKey);
    return { key, value: this.#anyValue(kv.value, depth, outerKey ?? key) };
  }

  #attributes(attributes: PbKeyValue[]): OtlpKeyValue[] {
    return attributes.map((kv) => this.#keyValue(kv, 0));
  }

  #span(span: PbSpan, scope: OtlpSpan['scope']): OtlpSpan {
    this.#spanName = this.#text(span.name, 'span name');
    this.#part = 'span';
    const traceState = this.#text(span.traceState, 'trace state');
    const attributes = this.#attributes(span.attributes);
    const statusMessage = this.#text(span.status?.message, 'status message');
    const events = span.events.map((event) => {
      this.#eventName = this.#text(event.name, 'event name');
      this.#part = 'event';
      const decoded = {
        timeUnixNano: longToBigInt(event.timeUnixNano, false),
        name: this.#eventName,
        attributes: this.#attributes(event.attributes),
      };
      this.#part = 'span';
      return decoded;
    });
    // Links are only counted; their strings are read so that a bad one is told like any other.
    this.#part = 'link';
    for (const link of span.links) {
      this.#text(link.traceState, 'trace state');
      this.#attributes(link.attributes);
    }
    this.#part = 'scope';
    return {
      // Views of the request's bytes, not copies: ids are read once, into hex.
      traceId: bytesView(span.traceId),
      spanId: bytesView(span.spanId),
      parentSpanId: bytesView(span.parentSpanId),
      traceState,
      flags: span.flags >>> 0,
      scope,
      name: this.#spanName,
      kind: span.kind,
      startTimeUnixNano: longToBigInt(span.startTimeUnixNano, false),
      endTimeUnixNano: longToBigInt(span.endTimeUnixNano, false),
      attributes,
      events,
      linkCount: span.links.length,
      droppedAttributesCount: span.droppedAttributesCount,
      droppedEventsCount: span.droppedEventsCount,
      droppedLinksCount: span.droppedLinksCount,
      status: { code: span.status?.code ?? 0, message: statusMessage },
    };
  }
}

// ---- The comparison

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

  it('refuses a request cut at any byte unless the cut falls between whole fields, as protobufjs did', () => {
    const { bytes } = smallRequests(1)[0]!;
    for (let length = 0; length < bytes.length; length++) assertSameDecode(bytes.subarray(0, length), `cut at ${length}`);
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
