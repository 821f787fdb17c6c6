import { isUtf8 } from 'node:buffer';
import protobuf from 'protobufjs';
import {
  describePlace,
  OtlpDecodeError,
  type OtlpAnyValue,
  type OtlpKeyValue,
  type OtlpResourceSpans,
  type OtlpSpan,
  type TextField,
  type TextPlace,
} from '../../src/otlp/otlp-decode.ts';
import type { Utf8Repairs } from '../../src/otlp/utf8-repairs.ts';
import { errorMessage } from '../../src/errors.ts';

/**
 * The protobufjs-based decoder of OTLP protobuf requests that src/otlp/otlp-decode.ts had before its
 * hand-written one, kept as it was: the reference that decoder is tested against and measured by.
 * protobufjs decodes into message objects with the schema of opentelemetry-proto, then a walk reads
 * those into the plain shape.
 */

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
export function protobufjsDecode(bytes: Uint8Array, repairs?: Utf8Repairs): OtlpResourceSpans[] {
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

/**
 * One decoded message read into the plain shape. It knows where in the request it is (which span,
 * which event) only to say where a string was not valid UTF-8.
 */
class ProtobufRequestReader {
  readonly #repairs: Utf8Repairs | undefined;
  // Where a bad string is told by the decoder's own description, the same words.
  readonly #at: TextPlace = { part: 'resource', scopeName: '', spanName: '', eventName: '' };

  constructor(repairs: Utf8Repairs | undefined) {
    this.#repairs = repairs;
  }

  read(message: PbRequest): OtlpResourceSpans[] {
    return message.resourceSpans.map((resourceSpans) => {
      this.#at.part = 'resource';
      const resourceAttributes = this.#attributes(resourceSpans.resource?.attributes ?? []);
      this.#text(resourceSpans.schemaUrl, 'schema url');
      return {
        resourceAttributes,
        spans: resourceSpans.scopeSpans.flatMap((scopeSpans) => {
          this.#at.part = 'scope';
          this.#at.scopeName = this.#text(scopeSpans.scope?.name, 'scope name');
          const scope = { name: this.#at.scopeName, version: this.#text(scopeSpans.scope?.version, 'version') };
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
    const place = describePlace(this.#at, field, text, key);
    if (!this.#repairs) throw new OtlpDecodeError(`${place} is not valid UTF-8`);
    this.#repairs.add(place);
    return text;
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
    this.#at.spanName = this.#text(span.name, 'span name');
    this.#at.part = 'span';
    const traceState = this.#text(span.traceState, 'trace state');
    const attributes = this.#attributes(span.attributes);
    const statusMessage = this.#text(span.status?.message, 'status message');
    const events = span.events.map((event) => {
      this.#at.eventName = this.#text(event.name, 'event name');
      this.#at.part = 'event';
      const decoded = {
        timeUnixNano: longToBigInt(event.timeUnixNano, false),
        name: this.#at.eventName,
        attributes: this.#attributes(event.attributes),
      };
      this.#at.part = 'span';
      return decoded;
    });
    // Links are only counted; their strings are read so that a bad one is told like any other.
    this.#at.part = 'link';
    for (const link of span.links) {
      this.#text(link.traceState, 'trace state');
      this.#attributes(link.attributes);
    }
    this.#at.part = 'scope';
    return {
      // Views of the request's bytes, not copies: ids are read once, into hex.
      traceId: bytesView(span.traceId),
      spanId: bytesView(span.spanId),
      parentSpanId: bytesView(span.parentSpanId),
      traceState,
      flags: span.flags >>> 0,
      scope,
      name: this.#at.spanName,
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
