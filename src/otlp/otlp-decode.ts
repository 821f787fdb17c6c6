import { isUtf8 } from 'node:buffer';
import protobuf from 'protobufjs';
import type { Utf8Repairs } from './utf8-repairs.ts';
import { errorMessage } from '../errors.ts';

/**
 * Reads an OTLP `ExportTraceServiceRequest` (protobuf or OTLP/JSON) into one plain shape. The
 * schema below is written from opentelemetry-proto's `common/v1/common.proto`,
 * `resource/v1/resource.proto`, `trace/v1/trace.proto` and
 * `collector/trace/v1/trace_service.proto` (field numbers only; names as protobufjs camelCases them).
 * The relay's receivers and the test fakes of MLflow share it, so it refuses what Python's protobuf
 * refuses (a fake kinder than the server would hide bugs).
 */

export type OtlpAnyValue =
  | { kind: 'string'; value: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'int'; value: bigint }
  | { kind: 'double'; value: number }
  | { kind: 'bytes'; value: Buffer }
  | { kind: 'array'; values: OtlpAnyValue[] }
  | { kind: 'kvlist'; values: OtlpKeyValue[] }
  | { kind: 'empty' };

export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}

interface OtlpEvent {
  timeUnixNano: bigint;
  name: string;
  attributes: OtlpKeyValue[];
}

export interface OtlpSpan {
  traceId: Buffer;
  spanId: Buffer;
  parentSpanId: Buffer;
  traceState: string;
  /** SpanFlags: the low byte is the W3C trace flags; 0x100 HAS_IS_REMOTE, 0x200 IS_REMOTE (of the parent). */
  flags: number;
  scope: { name: string; version: string };
  name: string;
  /** As on the wire: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: OtlpKeyValue[];
  events: OtlpEvent[];
  linkCount: number;
  droppedAttributesCount: number;
  droppedEventsCount: number;
  droppedLinksCount: number;
  /** 0 unset, 1 ok, 2 error (opentelemetry-proto `Status.StatusCode`). */
  status: { code: number; message: string };
}

export interface OtlpResourceSpans {
  resourceAttributes: OtlpKeyValue[];
  spans: OtlpSpan[];
}

export class OtlpDecodeError extends Error {
  override name = 'OtlpDecodeError';
}

/**
 * Attribute values nest (arrays of kvlists of arrays…); a hostile body can nest them deep enough to
 * overflow the stack of any recursive reader. Python's protobuf stops at 100 message levels; each
 * AnyValue level here is two messages.
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

/**
 * Decodes a protobuf body; throws OtlpDecodeError where Python's protobuf would raise DecodeError.
 * A string that is not valid UTF-8 is such an error too, unless `repairs` is given: then it is
 * decoded with U+FFFD in place of its bad bytes and noted there, and the request goes on.
 */
export function decodeOtlpProtobuf(bytes: Uint8Array, repairs?: Utf8Repairs): OtlpResourceSpans[] {
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

  #anyValue(value: PbAnyValue | undefined, depth: number, key: string): OtlpAnyValue {
    if (value === undefined) return { kind: 'empty' };
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

// ---- OTLP/JSON (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding): ids are hex,
// 64-bit integers may be strings, enums numbers or names, field names lowerCamelCase (snake_case
// tolerated, as protobuf's JSON parser does), unknown fields ignored. A value of the wrong JSON type
// is refused, as protobuf's parser refuses it.

type JsonObject = Record<string, unknown>;

function field(object: JsonObject, camel: string): unknown {
  const snake = camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return object[camel] ?? object[snake];
}

function asObject(value: unknown, what: string): JsonObject {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new OtlpDecodeError(`${what} is not an object`);
  return value as JsonObject;
}

function asArray(value: unknown, what: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new OtlpDecodeError(`${what} is not a list`);
  return value;
}

function asString(value: unknown, what: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new OtlpDecodeError(`${what} is not a string`);
  return value;
}

function asBigInt(value: unknown, what: string): bigint {
  if (value === undefined || value === null) return 0n;
  if ((typeof value === 'number' && Number.isInteger(value)) || (typeof value === 'string' && /^-?\d{1,20}$/.test(value))) {
    return BigInt(value);
  }
  throw new OtlpDecodeError(`${what} is not an integer`);
}

function asUint32(value: unknown, what: string): number {
  const number = asBigInt(value, what);
  if (number < 0n || number > 0xffffffffn) throw new OtlpDecodeError(`${what} is out of range`);
  return Number(number);
}

function asDouble(value: unknown, what: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^(?:NaN|-?Infinity|-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)$/.test(value)) return Number(value);
  throw new OtlpDecodeError(`${what} is not a number`);
}

function hexId(value: unknown, what: string): Buffer {
  if (value === undefined || value === null) return Buffer.alloc(0);
  if (typeof value !== 'string' || !/^(?:[0-9a-fA-F]{2})*$/.test(value)) throw new OtlpDecodeError(`${what} is not hex`);
  return Buffer.from(value, 'hex');
}

function base64Bytes(value: unknown, what: string): Buffer {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) throw new OtlpDecodeError(`${what} is not base64`);
  return Buffer.from(value, 'base64');
}

function enumNumber(value: unknown, names: readonly string[], what: string): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && names.includes(value)) return names.indexOf(value);
  throw new OtlpDecodeError(`${what} is not a known enum value`);
}

function fromJsonAnyValue(raw: unknown, depth: number): OtlpAnyValue {
  if (depth > MAX_VALUE_DEPTH) tooDeep();
  const value = asObject(raw, 'AnyValue');
  const string = field(value, 'stringValue');
  if (string !== undefined && string !== null) return { kind: 'string', value: asString(string, 'stringValue') };
  const bool = field(value, 'boolValue');
  if (bool !== undefined && bool !== null) {
    if (typeof bool !== 'boolean') throw new OtlpDecodeError('boolValue is not a boolean');
    return { kind: 'bool', value: bool };
  }
  const int = field(value, 'intValue');
  if (int !== undefined && int !== null) return { kind: 'int', value: BigInt.asIntN(64, asBigInt(int, 'intValue')) };
  const double = field(value, 'doubleValue');
  if (double !== undefined && double !== null) return { kind: 'double', value: asDouble(double, 'doubleValue') };
  const array = field(value, 'arrayValue');
  if (array !== undefined && array !== null) {
    const values = asArray(asObject(array, 'arrayValue').values, 'arrayValue.values');
    return { kind: 'array', values: values.map((item) => fromJsonAnyValue(item, depth + 1)) };
  }
  const kvlist = field(value, 'kvlistValue');
  if (kvlist !== undefined && kvlist !== null) {
    const values = asArray(asObject(kvlist, 'kvlistValue').values, 'kvlistValue.values');
    return { kind: 'kvlist', values: values.map((kv) => fromJsonKeyValue(kv, depth + 1)) };
  }
  const bytes = field(value, 'bytesValue');
  if (bytes !== undefined && bytes !== null) return { kind: 'bytes', value: base64Bytes(bytes, 'bytesValue') };
  return { kind: 'empty' };
}

function fromJsonKeyValue(raw: unknown, depth: number): OtlpKeyValue {
  const kv = asObject(raw, 'KeyValue');
  return { key: asString(kv.key, 'key'), value: fromJsonAnyValue(kv.value, depth) };
}

function fromJsonAttributes(raw: unknown, what: string): OtlpKeyValue[] {
  return asArray(raw, what).map((kv) => fromJsonKeyValue(kv, 0));
}

const spanKinds = [
  'SPAN_KIND_UNSPECIFIED',
  'SPAN_KIND_INTERNAL',
  'SPAN_KIND_SERVER',
  'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER',
  'SPAN_KIND_CONSUMER',
];
const statusCodes = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];

function fromJsonSpan(raw: unknown, scope: OtlpSpan['scope']): OtlpSpan {
  const span = asObject(raw, 'Span');
  const status = asObject(span.status, 'status');
  return {
    traceId: hexId(field(span, 'traceId'), 'traceId'),
    spanId: hexId(field(span, 'spanId'), 'spanId'),
    parentSpanId: hexId(field(span, 'parentSpanId'), 'parentSpanId'),
    traceState: asString(field(span, 'traceState'), 'traceState'),
    flags: asUint32(span.flags, 'flags'),
    scope,
    name: asString(span.name, 'name'),
    kind: enumNumber(span.kind, spanKinds, 'kind'),
    startTimeUnixNano: asBigInt(field(span, 'startTimeUnixNano'), 'startTimeUnixNano'),
    endTimeUnixNano: asBigInt(field(span, 'endTimeUnixNano'), 'endTimeUnixNano'),
    attributes: fromJsonAttributes(span.attributes, 'attributes'),
    events: asArray(span.events, 'events').map((rawEvent) => {
      const event = asObject(rawEvent, 'Event');
      return {
        timeUnixNano: asBigInt(field(event, 'timeUnixNano'), 'timeUnixNano'),
        name: asString(event.name, 'event name'),
        attributes: fromJsonAttributes(event.attributes, 'event attributes'),
      };
    }),
    linkCount: asArray(span.links, 'links').length,
    droppedAttributesCount: asUint32(field(span, 'droppedAttributesCount'), 'droppedAttributesCount'),
    droppedEventsCount: asUint32(field(span, 'droppedEventsCount'), 'droppedEventsCount'),
    droppedLinksCount: asUint32(field(span, 'droppedLinksCount'), 'droppedLinksCount'),
    status: { code: enumNumber(status.code, statusCodes, 'status.code'), message: asString(status.message, 'status.message') },
  };
}

/** Decodes an OTLP/JSON body (already parsed JSON); throws OtlpDecodeError on a wrong shape. */
export function decodeOtlpJson(parsed: unknown): OtlpResourceSpans[] {
  const request = asObject(parsed, 'ExportTraceServiceRequest');
  return asArray(field(request, 'resourceSpans'), 'resourceSpans').map((rawResourceSpans) => {
    const resourceSpans = asObject(rawResourceSpans, 'ResourceSpans');
    const resource = asObject(resourceSpans.resource, 'resource');
    return {
      resourceAttributes: fromJsonAttributes(resource.attributes, 'resource.attributes'),
      spans: asArray(field(resourceSpans, 'scopeSpans'), 'scopeSpans').flatMap((rawScopeSpans) => {
        const scopeSpans = asObject(rawScopeSpans, 'ScopeSpans');
        const rawScope = asObject(scopeSpans.scope, 'scope');
        const scope = { name: asString(rawScope.name, 'scope.name'), version: asString(rawScope.version, 'scope.version') };
        return asArray(scopeSpans.spans, 'spans').map((span) => fromJsonSpan(span, scope));
      }),
    };
  });
}
