import { isUtf8 } from 'node:buffer';
import type { Utf8Repairs } from './utf8-repairs.ts';
import { int64, MAX_NESTING, nestedTooDeep, ProtobufDecodeError, ProtobufReader } from './protobuf-reader.ts';
import { FIXED32, FIXED64, LENGTH, VARINT } from './protobuf-writer.ts';

/**
 * Reads an OTLP `ExportTraceServiceRequest` (protobuf or OTLP/JSON) into one plain shape. The
 * protobuf fields below are written from opentelemetry-proto's `common/v1/common.proto`,
 * `resource/v1/resource.proto`, `trace/v1/trace.proto` and `collector/trace/v1/trace_service.proto`.
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
 * overflow the stack of any recursive reader. Python's protobuf stops at 100 message levels (so does
 * the protobuf reader, MAX_NESTING); each AnyValue level of OTLP/JSON is two messages of protobuf.
 */
const MAX_VALUE_DEPTH = 50;

// Tags (`field << 3 | wire type`) of the fields read, by message, field numbers from the .proto
// files above. A known field with another wire type is skipped as an unknown one, as protobufjs and
// Python's protobuf skip it.
const REQUEST_RESOURCE_SPANS = (1 << 3) | LENGTH;
const RESOURCE_SPANS_RESOURCE = (1 << 3) | LENGTH;
const RESOURCE_SPANS_SCOPE_SPANS = (2 << 3) | LENGTH;
const RESOURCE_SPANS_SCHEMA_URL = (3 << 3) | LENGTH;
const RESOURCE_ATTRIBUTES = (1 << 3) | LENGTH;
const RESOURCE_DROPPED_ATTRIBUTES = (2 << 3) | VARINT;
const SCOPE_SPANS_SCOPE = (1 << 3) | LENGTH;
const SCOPE_SPANS_SPANS = (2 << 3) | LENGTH;
const SCOPE_SPANS_SCHEMA_URL = (3 << 3) | LENGTH;
const SCOPE_NAME = (1 << 3) | LENGTH;
const SCOPE_VERSION = (2 << 3) | LENGTH;
const SCOPE_ATTRIBUTES = (3 << 3) | LENGTH;
const SCOPE_DROPPED_ATTRIBUTES = (4 << 3) | VARINT;
const SPAN_TRACE_ID = (1 << 3) | LENGTH;
const SPAN_SPAN_ID = (2 << 3) | LENGTH;
const SPAN_TRACE_STATE = (3 << 3) | LENGTH;
const SPAN_PARENT_SPAN_ID = (4 << 3) | LENGTH;
const SPAN_NAME = (5 << 3) | LENGTH;
const SPAN_KIND = (6 << 3) | VARINT;
const SPAN_START_TIME = (7 << 3) | FIXED64;
const SPAN_END_TIME = (8 << 3) | FIXED64;
const SPAN_ATTRIBUTES = (9 << 3) | LENGTH;
const SPAN_DROPPED_ATTRIBUTES = (10 << 3) | VARINT;
const SPAN_EVENTS = (11 << 3) | LENGTH;
const SPAN_DROPPED_EVENTS = (12 << 3) | VARINT;
const SPAN_LINKS = (13 << 3) | LENGTH;
const SPAN_DROPPED_LINKS = (14 << 3) | VARINT;
const SPAN_STATUS = (15 << 3) | LENGTH;
const SPAN_FLAGS = (16 << 3) | FIXED32;
const STATUS_MESSAGE = (2 << 3) | LENGTH;
const STATUS_CODE = (3 << 3) | VARINT;
const EVENT_TIME = (1 << 3) | FIXED64;
const EVENT_NAME = (2 << 3) | LENGTH;
const EVENT_ATTRIBUTES = (3 << 3) | LENGTH;
const EVENT_DROPPED_ATTRIBUTES = (4 << 3) | VARINT;
const LINK_TRACE_STATE = (3 << 3) | LENGTH;
const LINK_ATTRIBUTES = (4 << 3) | LENGTH;
const LINK_DROPPED_ATTRIBUTES = (5 << 3) | VARINT;
const KEY_VALUE_KEY = (1 << 3) | LENGTH;
const KEY_VALUE_VALUE = (2 << 3) | LENGTH;
/** AnyValue's oneof members, by field number. */
const STRING_VALUE = 1;
const BOOL_VALUE = 2;
const INT_VALUE = 3;
const DOUBLE_VALUE = 4;
const ARRAY_VALUE = 5;
const KVLIST_VALUE = 6;
const BYTES_VALUE = 7;
const STRING_VALUE_TAG = (STRING_VALUE << 3) | LENGTH;
const BOOL_VALUE_TAG = (BOOL_VALUE << 3) | VARINT;
const INT_VALUE_TAG = (INT_VALUE << 3) | VARINT;
const DOUBLE_VALUE_TAG = (DOUBLE_VALUE << 3) | FIXED64;
const ARRAY_VALUE_TAG = (ARRAY_VALUE << 3) | LENGTH;
const KVLIST_VALUE_TAG = (KVLIST_VALUE << 3) | LENGTH;
const BYTES_VALUE_TAG = (BYTES_VALUE << 3) | LENGTH;
const MESSAGE_MEMBERS = (1 << ARRAY_VALUE) | (1 << KVLIST_VALUE);
/** ArrayValue's and KeyValueList's one field. */
const VALUES = (1 << 3) | LENGTH;

// Message depths, as protobufjs and Python's protobuf count them (the request is 0).
const RESOURCE_SPANS_DEPTH = 1;
const SCOPE_SPANS_DEPTH = 2;
const SPAN_DEPTH = 3;

const NO_BYTES: Buffer = Buffer.alloc(0);

/** Attribute keys decoded before, by a hash of their bytes: up to KEPT_KEYS of up to KEPT_KEY_BYTES each. */
const KEPT_KEYS = 256;
const KEPT_KEY_BYTES = 48;
const keptKeyBytes: (Buffer | undefined)[] = new Array(KEPT_KEYS).fill(undefined);
const keptKeys: (string | undefined)[] = new Array(KEPT_KEYS).fill(undefined);

/** Node's Buffer has the UTF-8 decoder that `toString('utf8', start, end)` calls, without its checks of arguments. */
type NodeBuffer = Buffer & { utf8Slice(start: number, end: number): string };

/**
 * Decodes a protobuf body; throws OtlpDecodeError where Python's protobuf would raise DecodeError.
 * A string that is not valid UTF-8 is such an error too, unless `repairs` is given: then it is
 * decoded with U+FFFD in place of its bad bytes and noted there, and the request goes on.
 */
export function decodeOtlpProtobuf(bytes: Uint8Array, repairs?: Utf8Repairs): OtlpResourceSpans[] {
  try {
    return new OtlpProtobufReader(bytes, repairs).request();
  } catch (error) {
    if (error instanceof ProtobufDecodeError) throw new OtlpDecodeError(error.message);
    throw error;
  }
}

/** A client's text in a place description: quoted, cut short. */
function shown(text: string): string {
  return `'${text.length > 60 ? `${text.slice(0, 60)}…` : text}'`;
}

export type TextField =
  | 'attribute'
  | 'attribute key'
  | 'scope name'
  | 'span name'
  | 'event name'
  | 'version'
  | 'trace state'
  | 'status message'
  | 'schema url';

/** Where in a request the reader is, to say where a string was not valid UTF-8. */
export interface TextPlace {
  part: 'resource' | 'scope' | 'span' | 'event' | 'link';
  scopeName: string;
  spanName: string;
  eventName: string;
}

/** Where a bad string is, for a person: `span 'chat', attribute 'gen_ai.prompt'`. */
export function describePlace(at: TextPlace, field: TextField, text: string, key: string | undefined): string {
  switch (field) {
    case 'scope name':
    case 'span name':
      return `${field} ${shown(text)}`;
    case 'event name':
      return `span ${shown(at.spanName)}, event name ${shown(text)}`;
    case 'attribute':
      return `${where(at)}attribute ${shown(key ?? '')}`;
    case 'attribute key':
      return `${where(at)}attribute key ${shown(key === undefined ? text : `${key}.${text}`)}`;
    default:
      return `${where(at)}${field}`;
  }
}

function where(at: TextPlace): string {
  switch (at.part) {
    case 'resource':
      return 'resource ';
    case 'scope':
      return `scope ${shown(at.scopeName)}, `;
    case 'span':
      return `span ${shown(at.spanName)}, `;
    case 'event':
      return `span ${shown(at.spanName)}, event ${shown(at.eventName)}, `;
    case 'link':
      return `span ${shown(at.spanName)}, link `;
  }
}

/**
 * A request read in one walk over its bytes, straight into the plain shape: no message objects in
 * between, strings decoded from the request's own memory. Strings are checked in one order whatever
 * the order of their fields on the wire (a span's name first, as the places of its other strings
 * name it; its status message before its events), so a message with such strings is walked twice:
 * once for its scalars and where its fields are, once for the rest. The reader knows where in the
 * request it is (which span, which event) only to say where a string was not valid UTF-8.
 */
class OtlpProtobufReader extends ProtobufReader {
  readonly #repairs: Utf8Repairs | undefined;
  readonly #at: TextPlace = { part: 'resource', scopeName: '', spanName: '', eventName: '' };
  /**
   * Above 0 while reading a oneof member that a later one overrides: protobufjs decoded such a
   * member (so its structure and depth count) but never read its strings.
   */
  #muted = 0;

  constructor(bytes: Uint8Array, repairs: Utf8Repairs | undefined) {
    super(bytes);
    this.#repairs = repairs;
  }

  request(): OtlpResourceSpans[] {
    const request: OtlpResourceSpans[] = [];
    this.eachField(REQUEST_RESOURCE_SPANS, 0, this.buf.length, (resourceSpansEnd) => request.push(this.#resourceSpans(resourceSpansEnd)));
    return request;
  }

  #resourceSpans(end: number): OtlpResourceSpans {
    const start = this.pos;
    let schemaUrlStart = 0;
    let schemaUrlEnd = 0;
    while (this.pos < end) {
      const tag = this.tag(end);
      if (tag === RESOURCE_SPANS_SCHEMA_URL) {
        schemaUrlStart = this.skipContent(end);
        schemaUrlEnd = this.pos;
      } else {
        this.skipField(tag, RESOURCE_SPANS_DEPTH, end);
      }
    }
    this.#at.part = 'resource';
    const resourceAttributes: OtlpKeyValue[] = [];
    this.pos = start;
    this.eachField(RESOURCE_SPANS_RESOURCE, RESOURCE_SPANS_DEPTH, end, (resourceEnd) => this.#resource(resourceEnd, resourceAttributes));
    this.#text(schemaUrlStart, schemaUrlEnd, 'schema url');
    const spans: OtlpSpan[] = [];
    this.pos = start;
    this.eachField(RESOURCE_SPANS_SCOPE_SPANS, RESOURCE_SPANS_DEPTH, end, (scopeSpansEnd) => this.#scopeSpans(scopeSpansEnd, spans));
    return { resourceAttributes, spans };
  }

  #resource(end: number, attributes: OtlpKeyValue[]): void {
    const depth = RESOURCE_SPANS_DEPTH + 1;
    while (this.pos < end) {
      const tag = this.tag(end);
      if (tag === RESOURCE_ATTRIBUTES) {
        const contentEnd = this.length(end);
        attributes.push(this.#keyValue(contentEnd, depth + 1, undefined));
        this.pos = contentEnd;
      } else if (tag === RESOURCE_DROPPED_ATTRIBUTES) {
        this.varint32(end);
      } else {
        this.skipField(tag, depth, end);
      }
    }
  }

  #scopeSpans(end: number, spans: OtlpSpan[]): void {
    const start = this.pos;
    const scopeDepth = SCOPE_SPANS_DEPTH + 1;
    let schemaUrlStart = 0;
    let schemaUrlEnd = 0;
    let nameStart = 0;
    let nameEnd = 0;
    let versionStart = 0;
    let versionEnd = 0;
    while (this.pos < end) {
      const tag = this.tag(end);
      if (tag === SCOPE_SPANS_SCHEMA_URL) {
        schemaUrlStart = this.skipContent(end);
        schemaUrlEnd = this.pos;
      } else if (tag === SCOPE_SPANS_SCOPE) {
        // A scope sent twice is merged into one, as protobuf merges a message field: the last name wins.
        const scopeEnd = this.length(end);
        while (this.pos < scopeEnd) {
          const scopeTag = this.tag(scopeEnd);
          if (scopeTag === SCOPE_NAME) {
            nameStart = this.skipContent(scopeEnd);
            nameEnd = this.pos;
          } else if (scopeTag === SCOPE_VERSION) {
            versionStart = this.skipContent(scopeEnd);
            versionEnd = this.pos;
          } else if (scopeTag === SCOPE_DROPPED_ATTRIBUTES) {
            this.varint32(scopeEnd);
          } else {
            this.skipField(scopeTag, scopeDepth, scopeEnd);
          }
        }
      } else {
        this.skipField(tag, SCOPE_SPANS_DEPTH, end);
      }
    }
    this.#at.part = 'scope';
    this.#at.scopeName = this.#text(nameStart, nameEnd, 'scope name');
    const scope = { name: this.#at.scopeName, version: this.#text(versionStart, versionEnd, 'version') };
    // Scope attributes are not kept; read only so that a bad string among them is told like any other.
    this.pos = start;
    this.eachField(SCOPE_SPANS_SCOPE, SCOPE_SPANS_DEPTH, end, (scopeEnd) =>
      this.#attributes(this.pos, scopeEnd, SCOPE_ATTRIBUTES, scopeDepth),
    );
    this.#text(schemaUrlStart, schemaUrlEnd, 'schema url');
    this.pos = start;
    this.eachField(SCOPE_SPANS_SPANS, SCOPE_SPANS_DEPTH, end, (spanEnd) => spans.push(this.#span(spanEnd, scope)));
  }

  #span(end: number, scope: OtlpSpan['scope']): OtlpSpan {
    let traceId = NO_BYTES;
    let spanId = NO_BYTES;
    let parentSpanId = NO_BYTES;
    let traceStateStart = 0;
    let traceStateEnd = 0;
    let nameStart = 0;
    let nameEnd = 0;
    let kind = 0;
    let startTimeUnixNano = 0n;
    let endTimeUnixNano = 0n;
    let attributesFrom = -1;
    let eventsFrom = -1;
    let linksFrom = -1;
    let linkCount = 0;
    let droppedAttributesCount = 0;
    let droppedEventsCount = 0;
    let droppedLinksCount = 0;
    let statusCode = 0;
    let statusMessageStart = 0;
    let statusMessageEnd = 0;
    let flags = 0;
    while (this.pos < end) {
      const tagStart = this.pos;
      const tag = this.tag(end);
      switch (tag) {
        case SPAN_TRACE_ID:
          traceId = this.#bytes(end);
          break;
        case SPAN_SPAN_ID:
          spanId = this.#bytes(end);
          break;
        case SPAN_PARENT_SPAN_ID:
          parentSpanId = this.#bytes(end);
          break;
        case SPAN_TRACE_STATE:
          traceStateStart = this.skipContent(end);
          traceStateEnd = this.pos;
          break;
        case SPAN_NAME:
          nameStart = this.skipContent(end);
          nameEnd = this.pos;
          break;
        case SPAN_KIND:
          kind = this.varint32(end) | 0;
          break;
        case SPAN_START_TIME:
          startTimeUnixNano = this.fixed64(end);
          break;
        case SPAN_END_TIME:
          endTimeUnixNano = this.fixed64(end);
          break;
        case SPAN_ATTRIBUTES:
          if (attributesFrom === -1) attributesFrom = tagStart;
          this.pos = this.length(end);
          break;
        case SPAN_DROPPED_ATTRIBUTES:
          droppedAttributesCount = this.varint32(end);
          break;
        case SPAN_EVENTS:
          if (eventsFrom === -1) eventsFrom = tagStart;
          this.pos = this.length(end);
          break;
        case SPAN_DROPPED_EVENTS:
          droppedEventsCount = this.varint32(end);
          break;
        case SPAN_LINKS:
          if (linksFrom === -1) linksFrom = tagStart;
          this.pos = this.length(end);
          linkCount += 1;
          break;
        case SPAN_DROPPED_LINKS:
          droppedLinksCount = this.varint32(end);
          break;
        case SPAN_STATUS: {
          // A status sent twice is merged: each of its fields is the last one sent.
          const statusEnd = this.length(end);
          while (this.pos < statusEnd) {
            const statusTag = this.tag(statusEnd);
            if (statusTag === STATUS_MESSAGE) {
              statusMessageStart = this.skipContent(statusEnd);
              statusMessageEnd = this.pos;
            } else if (statusTag === STATUS_CODE) {
              statusCode = this.varint32(statusEnd) | 0;
            } else {
              this.skipField(statusTag, SPAN_DEPTH + 1, statusEnd);
            }
          }
          break;
        }
        case SPAN_FLAGS:
          flags = this.fixed32(end);
          break;
        default:
          this.skipField(tag, SPAN_DEPTH, end);
      }
    }
    this.#at.spanName = this.#text(nameStart, nameEnd, 'span name');
    this.#at.part = 'span';
    const traceState = this.#text(traceStateStart, traceStateEnd, 'trace state');
    const attributes = this.#attributes(attributesFrom, end, SPAN_ATTRIBUTES, SPAN_DEPTH);
    const statusMessage = this.#text(statusMessageStart, statusMessageEnd, 'status message');
    const events: OtlpEvent[] = [];
    if (eventsFrom !== -1) {
      this.pos = eventsFrom;
      this.eachField(SPAN_EVENTS, SPAN_DEPTH, end, (eventEnd) => events.push(this.#event(eventEnd)));
    }
    // Links are only counted; their strings are read so that a bad one is told like any other.
    this.#at.part = 'link';
    if (linksFrom !== -1) {
      this.pos = linksFrom;
      this.eachField(SPAN_LINKS, SPAN_DEPTH, end, (linkEnd) => this.#link(linkEnd));
    }
    this.#at.part = 'scope';
    return {
      traceId,
      spanId,
      parentSpanId,
      traceState,
      flags,
      scope,
      name: this.#at.spanName,
      kind,
      startTimeUnixNano,
      endTimeUnixNano,
      attributes,
      events,
      linkCount,
      droppedAttributesCount,
      droppedEventsCount,
      droppedLinksCount,
      status: { code: statusCode, message: statusMessage },
    };
  }

  #event(end: number): OtlpEvent {
    const depth = SPAN_DEPTH + 1;
    let timeUnixNano = 0n;
    let nameStart = 0;
    let nameEnd = 0;
    let attributesFrom = -1;
    while (this.pos < end) {
      const tagStart = this.pos;
      const tag = this.tag(end);
      if (tag === EVENT_TIME) {
        timeUnixNano = this.fixed64(end);
      } else if (tag === EVENT_NAME) {
        nameStart = this.skipContent(end);
        nameEnd = this.pos;
      } else if (tag === EVENT_ATTRIBUTES) {
        if (attributesFrom === -1) attributesFrom = tagStart;
        this.pos = this.length(end);
      } else if (tag === EVENT_DROPPED_ATTRIBUTES) {
        this.varint32(end);
      } else {
        this.skipField(tag, depth, end);
      }
    }
    this.#at.eventName = this.#text(nameStart, nameEnd, 'event name');
    this.#at.part = 'event';
    const event = { timeUnixNano, name: this.#at.eventName, attributes: this.#attributes(attributesFrom, end, EVENT_ATTRIBUTES, depth) };
    this.#at.part = 'span';
    return event;
  }

  #link(end: number): void {
    const depth = SPAN_DEPTH + 1;
    let traceStateStart = 0;
    let traceStateEnd = 0;
    let attributesFrom = -1;
    while (this.pos < end) {
      const tagStart = this.pos;
      const tag = this.tag(end);
      if (tag === LINK_TRACE_STATE) {
        traceStateStart = this.skipContent(end);
        traceStateEnd = this.pos;
      } else if (tag === LINK_ATTRIBUTES) {
        if (attributesFrom === -1) attributesFrom = tagStart;
        this.pos = this.length(end);
      } else if (tag === LINK_DROPPED_ATTRIBUTES) {
        this.varint32(end);
      } else {
        // The link's ids and flags: bytes and a fixed32, skipped as they are read.
        this.skipField(tag, depth, end);
      }
    }
    this.#text(traceStateStart, traceStateEnd, 'trace state');
    this.#attributes(attributesFrom, end, LINK_ATTRIBUTES, depth);
  }

  /** The attributes (`field`) of a message of `depth` found between `from` and `to`; none when `from` is -1. */
  #attributes(from: number, to: number, field: number, depth: number): OtlpKeyValue[] {
    const attributes: OtlpKeyValue[] = [];
    if (from === -1) return attributes;
    this.pos = from;
    this.eachField(field, depth, to, (keyValueEnd) => attributes.push(this.#keyValue(keyValueEnd, depth + 1, undefined)));
    return attributes;
  }

  /** `outerKey`: the attribute a nested kvlist entry belongs to, which is what a person looks for. */
  #keyValue(end: number, depth: number, outerKey: string | undefined): OtlpKeyValue {
    if (depth > MAX_NESTING) nestedTooDeep();
    const start = this.pos;
    let keyStart = 0;
    let keyEnd = 0;
    let valueStart = 0;
    let valueEnd = 0;
    let valueCount = 0;
    while (this.pos < end) {
      const tag = this.tag(end);
      if (tag === KEY_VALUE_KEY) {
        keyStart = this.skipContent(end);
        keyEnd = this.pos;
      } else if (tag === KEY_VALUE_VALUE) {
        valueEnd = this.length(end);
        if (valueCount === 0) valueStart = this.pos;
        valueCount += 1;
        this.pos = valueEnd;
      } else {
        this.skipField(tag, depth, end);
      }
    }
    const key = this.#key(keyStart, keyEnd, outerKey);
    if (valueCount === 0) return { key, value: { kind: 'empty' } };
    if (valueCount === 1) {
      this.pos = valueStart;
      return { key, value: this.#anyValue(valueEnd, 0, depth + 1, outerKey ?? key) };
    }
    // A value sent twice is merged into one, as protobuf merges a message field.
    this.pos = start;
    return { key, value: this.#anyValue(end, KEY_VALUE_VALUE, depth + 1, outerKey ?? key) };
  }

  /**
   * An AnyValue from `pos` to `end`; with `pieceTag`, the merge of every occurrence of that field up
   * to `end` in its parent message. Of its oneof's members, the one that came last on the wire wins,
   * with the last value sent for it. Like protobufjs, a member that came again after another keeps
   * its first place (no encoder writes that).
   */
  #anyValue(end: number, pieceTag: number, depth: number, key: string): OtlpAnyValue {
    if (depth > MAX_NESTING) nestedTooDeep();
    const start = this.pos;
    let member = 0;
    let seen = 0;
    let bool = false;
    let low = 0;
    let high = 0;
    let double = 0;
    let textStart = 0;
    let textEnd = 0;
    let bytesStart = 0;
    let bytesEnd = 0;
    for (let pieceEnd = pieceTag === 0 ? end : this.next(pieceTag, depth - 1, end); pieceEnd !== -1; ) {
      while (this.pos < pieceEnd) {
        const tag = this.tag(pieceEnd);
        switch (tag) {
          case STRING_VALUE_TAG:
            textStart = this.skipContent(pieceEnd);
            textEnd = this.pos;
            break;
          case BOOL_VALUE_TAG:
            bool = this.bool(pieceEnd);
            break;
          case INT_VALUE_TAG:
            this.varint64(pieceEnd);
            low = this.low;
            high = this.high;
            break;
          case DOUBLE_VALUE_TAG:
            double = this.double(pieceEnd);
            break;
          case ARRAY_VALUE_TAG:
          case KVLIST_VALUE_TAG:
            this.pos = this.length(pieceEnd);
            break;
          case BYTES_VALUE_TAG:
            bytesStart = this.skipContent(pieceEnd);
            bytesEnd = this.pos;
            break;
          default:
            this.skipField(tag, depth, pieceEnd);
            continue;
        }
        const bit = 1 << (tag >>> 3);
        if ((seen & bit) === 0) {
          seen |= bit;
          member = tag >>> 3;
        }
      }
      pieceEnd = pieceTag === 0 ? -1 : this.next(pieceTag, depth - 1, end);
    }
    switch (member) {
      case STRING_VALUE:
        return { kind: 'string', value: this.#text(textStart, textEnd, 'attribute', key) };
      case BOOL_VALUE:
        return { kind: 'bool', value: bool };
      case INT_VALUE:
        return { kind: 'int', value: int64(low, high) };
      case DOUBLE_VALUE:
        return { kind: 'double', value: double };
      case BYTES_VALUE:
        return { kind: 'bytes', value: Buffer.copyBytesFrom(this.buf, bytesStart, bytesEnd - bytesStart) };
    }
    const items: OtlpAnyValue[] = [];
    const entries: OtlpKeyValue[] = [];
    if ((seen & MESSAGE_MEMBERS) !== 0) this.#messageMembers(start, end, pieceTag, depth, member, key, items, entries);
    if (member === ARRAY_VALUE) return { kind: 'array', values: items };
    if (member === KVLIST_VALUE) return { kind: 'kvlist', values: entries };
    return { kind: 'empty' };
  }

  /**
   * An AnyValue's array and kvlist members, read again from `start` once the winning member is
   * known: the winner's into `items` or `entries`, the others for their structure only.
   */
  #messageMembers(
    start: number,
    end: number,
    pieceTag: number,
    depth: number,
    member: number,
    key: string,
    items: OtlpAnyValue[],
    entries: OtlpKeyValue[],
  ): void {
    this.pos = start;
    for (let pieceEnd = pieceTag === 0 ? end : this.next(pieceTag, depth - 1, end); pieceEnd !== -1; ) {
      while (this.pos < pieceEnd) {
        const tag = this.tag(pieceEnd);
        if (tag !== ARRAY_VALUE_TAG && tag !== KVLIST_VALUE_TAG) {
          this.skipField(tag, depth, pieceEnd);
          continue;
        }
        const memberEnd = this.length(pieceEnd);
        const wins = tag >>> 3 === member;
        if (!wins) this.#muted += 1;
        if (tag === ARRAY_VALUE_TAG) this.#arrayValues(memberEnd, depth + 1, key, wins ? items : []);
        else this.#kvlistValues(memberEnd, depth + 1, key, wins ? entries : []);
        if (!wins) this.#muted -= 1;
        this.pos = memberEnd;
      }
      pieceEnd = pieceTag === 0 ? -1 : this.next(pieceTag, depth - 1, end);
    }
  }

  #arrayValues(end: number, depth: number, key: string, items: OtlpAnyValue[]): void {
    if (depth > MAX_NESTING) nestedTooDeep();
    this.eachField(VALUES, depth, end, (itemEnd) => items.push(this.#anyValue(itemEnd, 0, depth + 1, key)));
  }

  #kvlistValues(end: number, depth: number, key: string, entries: OtlpKeyValue[]): void {
    if (depth > MAX_NESTING) nestedTooDeep();
    this.eachField(VALUES, depth, end, (entryEnd) => entries.push(this.#keyValue(entryEnd, depth + 1, key)));
  }

  /** A bytes field as a view of the request's own memory. */
  #bytes(end: number): Buffer {
    const start = this.skipContent(end);
    return this.pos === start ? NO_BYTES : this.buf.subarray(start, this.pos);
  }

  /**
   * An attribute key: the same few keys come in every span of a batch, so a short one is looked up
   * by its bytes among the keys read before (in any request) rather than decoded again.
   */
  #key(start: number, end: number, outerKey: string | undefined): string {
    const length = end - start;
    if (length > KEPT_KEY_BYTES || length === 0 || this.#muted > 0) return this.#text(start, end, 'attribute key', outerKey);
    const buf = this.buf;
    let hash = length;
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ buf[i]!, 0x01000193);
    const slot = (hash >>> 0) & (KEPT_KEYS - 1);
    const kept = keptKeyBytes[slot];
    if (kept !== undefined && kept.length === length) {
      let same = true;
      for (let i = 0; i < length; i++) {
        if (kept[i] !== buf[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return keptKeys[slot]!;
    }
    const key = this.#text(start, end, 'attribute key', outerKey);
    // A repaired key is not kept: it must be noted again wherever it comes.
    if (!key.includes('\uFFFD')) {
      keptKeyBytes[slot] = Buffer.copyBytesFrom(buf, start, length);
      keptKeys[slot] = key;
    }
    return key;
  }

  /** A string field's bytes as text; `key` is the attribute it belongs to, if any. */
  #text(start: number, end: number, field: TextField, key?: string): string {
    if (start === end || this.#muted > 0) return '';
    const text = (this.buf as NodeBuffer).utf8Slice(start, end);
    // Decoding puts U+FFFD in place of every bad sequence, so only a text holding one can be bad.
    if (!text.includes('\uFFFD') || isUtf8(this.buf.subarray(start, end))) return text;
    const place = describePlace(this.#at, field, text, key);
    if (!this.#repairs) throw new OtlpDecodeError(`${place} is not valid UTF-8`);
    this.#repairs.add(place);
    return text;
  }
}

function tooDeep(): never {
  throw new OtlpDecodeError(`attribute values nest deeper than ${MAX_VALUE_DEPTH} levels`);
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
