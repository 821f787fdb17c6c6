import type { Attributes, HrTime, Link, SpanContext, SpanStatus } from '@opentelemetry/api';
import { scopeKey, type LocalSpan } from '../spans/local-span.ts';

/**
 * Writes an OTLP `ExportTraceServiceRequest` (opentelemetry-proto `collector/trace/v1`) in one pass
 * straight from the spans, byte for byte what otlp-transformer's ProtobufTraceSerializer writes for
 * them: the same field order, the same defaults left out or written, spans grouped by resource and then
 * by scope in order of first appearance. Without its size-estimating pass, its id buffers or its
 * imports, so the preload can carry it into a user's program.
 */

/** What the encoder reads of a finished SDK span (a ReadableSpan is one). */
export interface EncodableSpan {
  name: string;
  kind: number;
  spanContext(): SpanContext;
  parentSpanContext?: SpanContext | undefined;
  startTime: HrTime;
  endTime: HrTime;
  status: SpanStatus;
  attributes: Attributes;
  links: Link[];
  events: { time: HrTime; name: string; attributes?: Attributes | undefined; droppedAttributesCount?: number | undefined }[];
  droppedAttributesCount: number;
  droppedEventsCount: number;
  droppedLinksCount: number;
  resource: { attributes: Attributes; schemaUrl?: string | undefined };
  instrumentationScope: EncodableScope;
}

interface EncodableScope {
  name: string;
  version?: string | undefined;
  schemaUrl?: string | undefined;
  attributes?: Attributes | undefined;
  droppedAttributesCount?: number | undefined;
}

/**
 * Attributes as they go on the wire: the API's values, and also plain objects (as kvlistValue),
 * nested arrays, bytes and `undefined` (an empty value), as the transformer takes them.
 */
export type WireAttributes = Readonly<Record<string, unknown>>;

// Wire types.
const VARINT = 0;
const FIXED64 = 1;
const LENGTH = 2;
const FIXED32 = 5;

/** SpanFlags (`trace.proto`): whether the parent's remoteness is known, and its value. */
const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;

const TWO_32 = 4_294_967_296;
const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;
/** Strings shorter than this are written character by character when they are ASCII. */
const SHORT_STRING = 128;
/** A scratch buffer grown past this by one large request is not kept for the next. */
const KEPT_SCRATCH_BYTES = 1 << 20;
const INITIAL_SCRATCH_BYTES = 1 << 16;
/** Encoded stored resources kept by their JSON text; a process sees a handful. */
const KEPT_LOCAL_RESOURCES = 64;

/** What a nested message's length is first given room for, before its size is known. */
const ROOM_SMALL = 1;
const ROOM_SPAN = 2;
const ROOM_GROUP = 3;

let buf = new Uint8Array(INITIAL_SCRATCH_BYTES);
let view = new DataView(buf.buffer);
let pos = 0;
const utf8 = new TextEncoder();

function ensure(bytes: number): void {
  const needed = pos + bytes;
  if (needed <= buf.length) return;
  let size = buf.length * 2;
  while (size < needed) size *= 2;
  const grown = new Uint8Array(size);
  grown.set(buf.subarray(0, pos));
  buf = grown;
  view = new DataView(buf.buffer);
}

function varintSize(value: number): number {
  if (value < 128) return 1;
  if (value < 16_384) return 2;
  if (value < 2_097_152) return 3;
  if (value < 268_435_456) return 4;
  return 5;
}

function writeUint32(value: number): void {
  ensure(5);
  putUint32(value);
}

/** A varint where room for it was made already. */
function putUint32(value: number): void {
  let v = value >>> 0;
  while (v > 127) {
    buf[pos++] = (v & 127) | 128;
    v >>>= 7;
  }
  buf[pos++] = v;
}

/** A varint of any integer a double holds exactly; negatives in ten bytes of two's complement. */
function writeVarint(value: number): void {
  if (value >= 0 && value <= 4_294_967_295) {
    writeUint32(value);
    return;
  }
  let low: number;
  let high: number;
  if (value >= 0) {
    low = value >>> 0;
    high = (value / TWO_32) >>> 0;
  } else {
    const abs = Math.abs(value);
    low = ~(abs >>> 0) >>> 0;
    high = ~((abs / TWO_32) >>> 0) >>> 0;
    low = (low + 1) >>> 0;
    if (low === 0) high = (high + 1) >>> 0;
  }
  ensure(10);
  while (high > 0 || low > 127) {
    buf[pos++] = (low & 127) | 128;
    low = ((low >>> 7) | (high << 25)) >>> 0;
    high >>>= 7;
  }
  buf[pos++] = low & 127;
}

function writeTag(field: number, wireType: number): void {
  writeUint32((field << 3) | wireType);
}

function writeFixed32(value: number): void {
  ensure(4);
  view.setUint32(pos, value >>> 0, true);
  pos += 4;
}

/** Nanoseconds since the epoch from an HrTime, exactly (they exceed 2^53), without a BigInt. */
function writeTime(field: number, seconds: number, nanos: number): void {
  writeTag(field, FIXED64);
  const lowSecondsNanos = (seconds & 0xffff) * 1e9;
  const highSecondsNanos = ((seconds / 65_536) >>> 0) * 1e9;
  const low = (lowSecondsNanos >>> 0) + (((highSecondsNanos & 0xffff) * 65_536) >>> 0) + nanos;
  const high = Math.floor(lowSecondsNanos / TWO_32) + ((highSecondsNanos / 65_536) >>> 0) + Math.floor(low / TWO_32);
  ensure(8);
  view.setUint32(pos, low >>> 0, true);
  view.setUint32(pos + 4, high >>> 0, true);
  pos += 8;
}

/** A decimal nanosecond count (LocalSpan's times) as the HrTime the SDK would hold, without a BigInt. */
export function decimalNanosToHr(nanos: string): HrTime {
  return nanos.length > 9 ? [Number(nanos.slice(0, -9)), Number(nanos.slice(-9))] : [0, Number(nanos)];
}

function writeString(text: string): void {
  const length = text.length;
  if (length < SHORT_STRING) {
    let i = 0;
    while (i < length && text.charCodeAt(i) < 128) i++;
    if (i === length) {
      ensure(1 + length);
      buf[pos++] = length;
      for (i = 0; i < length; i++) buf[pos++] = text.charCodeAt(i);
      return;
    }
  }
  // Room for the longest UTF-8 the text can take, the length's varint moved up once the size is known.
  const room = varintSize(length * 3);
  ensure(room + length * 3);
  const written = utf8.encodeInto(text, buf.subarray(pos + room)).written;
  const size = varintSize(written);
  if (size < room) buf.copyWithin(pos + size, pos + room, pos + room + written);
  putUint32(written);
  pos += written;
}

function writeStringField(field: number, text: string): void {
  writeTag(field, LENGTH);
  writeString(text);
}

function writeBytes(bytes: Uint8Array): void {
  writeUint32(bytes.length);
  ensure(bytes.length);
  buf.set(bytes, pos);
  pos += bytes.length;
}

function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  return code - 55;
}

/** An id field from its hex text, as the transformer's hexToBinary reads it. */
function writeHexField(field: number, hex: string): void {
  const length = hex.length >>> 1;
  writeTag(field, LENGTH);
  writeUint32(length);
  ensure(length);
  for (let i = 0; i < length; i++) buf[pos++] = (hexDigit(hex.charCodeAt(2 * i)) << 4) | hexDigit(hex.charCodeAt(2 * i + 1));
}

/** Opens a length-delimited message: room for its length, returned as where it goes. */
function open(room: number): number {
  ensure(room);
  const at = pos;
  pos += room;
  return at;
}

/** Writes the length of the message opened at `at`, moving its bytes when the room was not right. */
function close(at: number, room: number): void {
  const length = pos - at - room;
  const size = varintSize(length);
  if (size !== room) {
    ensure(size - room);
    buf.copyWithin(at + size, at + room, pos);
    pos += size - room;
  }
  const end = pos;
  pos = at;
  putUint32(length);
  pos = end;
}

function writeAttributes(field: number, attributes: WireAttributes): void {
  for (const key in attributes) {
    if (!Object.hasOwn(attributes, key)) continue;
    writeTag(field, LENGTH);
    const keyValue = open(ROOM_SMALL);
    writeKeyValue(key, attributes[key]);
    close(keyValue, ROOM_SMALL);
  }
}

function writeKeyValue(key: string, value: unknown): void {
  writeStringField(1, key);
  writeTag(2, LENGTH);
  const anyValue = open(ROOM_SMALL);
  writeAnyValue(value);
  close(anyValue, ROOM_SMALL);
}

function writeAnyValue(value: unknown): void {
  switch (typeof value) {
    case 'string':
      writeStringField(1, value);
      return;
    case 'boolean':
      writeTag(2, VARINT);
      writeUint32(value ? 1 : 0);
      return;
    case 'number':
      if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64) {
        writeTag(3, VARINT);
        writeVarint(value);
      } else {
        writeTag(4, FIXED64);
        ensure(8);
        view.setFloat64(pos, value, true);
        pos += 8;
      }
      return;
    case 'object':
      break;
    default:
      return;
  }
  if (value instanceof Uint8Array) {
    writeTag(7, LENGTH);
    writeBytes(value);
  } else if (Array.isArray(value)) {
    writeTag(5, LENGTH);
    const array = open(ROOM_SMALL);
    for (const item of value) {
      writeTag(1, LENGTH);
      const itemValue = open(ROOM_SMALL);
      writeAnyValue(item);
      close(itemValue, ROOM_SMALL);
    }
    close(array, ROOM_SMALL);
  } else if (value !== null) {
    writeTag(6, LENGTH);
    const list = open(ROOM_SMALL);
    writeAttributes(1, value as WireAttributes);
    close(list, ROOM_SMALL);
  }
}

function spanFlags(traceFlags: number, remoteParent: boolean | undefined): number {
  return (traceFlags & 0xff) | HAS_IS_REMOTE | (remoteParent ? IS_REMOTE : 0);
}

function writeFlags(field: number, flags: number): void {
  writeTag(field, FIXED32);
  writeFixed32(flags);
}

function writeCount(field: number, count: number | undefined): void {
  writeTag(field, VARINT);
  writeVarint(count || 0);
}

function writeStatus(code: number, message: string | undefined): void {
  writeTag(15, LENGTH);
  const status = open(ROOM_SMALL);
  if (message) writeStringField(2, message);
  writeTag(3, VARINT);
  writeVarint(code);
  close(status, ROOM_SMALL);
}

function writeEvent(time: HrTime, name: string, attributes: WireAttributes | undefined, dropped: number | undefined): void {
  writeTag(11, LENGTH);
  const event = open(ROOM_SMALL);
  writeTime(1, time[0], time[1]);
  writeStringField(2, name);
  if (attributes) writeAttributes(3, attributes);
  writeCount(4, dropped);
  close(event, ROOM_SMALL);
}

function writeLink(link: Link): void {
  writeTag(13, LENGTH);
  const at = open(ROOM_SPAN);
  const context = link.context;
  writeHexField(1, context.traceId);
  writeHexField(2, context.spanId);
  const traceState = context.traceState?.serialize();
  if (traceState) writeStringField(3, traceState);
  if (link.attributes) writeAttributes(4, link.attributes);
  writeCount(5, link.droppedAttributesCount);
  writeFlags(6, spanFlags(context.traceFlags, context.isRemote));
  close(at, ROOM_SPAN);
}

/** The span's `kind` on the wire: the SDK's SpanKind starts at INTERNAL = 0, the wire's at UNSPECIFIED = 0. */
function writeKind(kind: number | null | undefined): void {
  const wire = kind == null ? 0 : kind + 1;
  if (wire === 0) return;
  writeTag(6, VARINT);
  writeVarint(wire);
}

function writeSdkSpan(span: EncodableSpan, attributes: WireAttributes): void {
  const context = span.spanContext();
  const parent = span.parentSpanContext;
  writeHexField(1, context.traceId);
  writeHexField(2, context.spanId);
  const traceState = context.traceState?.serialize();
  if (traceState) writeStringField(3, traceState);
  if (parent?.spanId) writeHexField(4, parent.spanId);
  writeStringField(5, span.name);
  writeKind(span.kind);
  writeTime(7, span.startTime[0], span.startTime[1]);
  writeTime(8, span.endTime[0], span.endTime[1]);
  if (attributes) writeAttributes(9, attributes);
  writeCount(10, span.droppedAttributesCount);
  for (const event of span.events) writeEvent(event.time, event.name, event.attributes, event.droppedAttributesCount);
  writeCount(12, span.droppedEventsCount);
  for (const link of span.links) writeLink(link);
  writeCount(14, span.droppedLinksCount);
  writeStatus(span.status.code, span.status.message);
  writeFlags(16, spanFlags(context.traceFlags, parent?.isRemote));
}

/** W3C sampled: what toReadableSpans gives a stored span. */
const SAMPLED = 1;

function writeLocalSpan(span: LocalSpan, attributes: WireAttributes, remoteParent: boolean): void {
  writeHexField(1, span.traceId);
  writeHexField(2, span.spanId);
  if (span.parentSpanId) writeHexField(4, span.parentSpanId);
  writeStringField(5, span.name);
  writeKind(span.kind);
  const start = decimalNanosToHr(span.startTimeUnixNano);
  const end = decimalNanosToHr(span.endTimeUnixNano);
  writeTime(7, start[0], start[1]);
  writeTime(8, end[0], end[1]);
  writeAttributes(9, attributes);
  writeCount(10, 0);
  for (const event of span.events) writeEvent(decimalNanosToHr(event.timeUnixNano), event.name, event.attributes, 0);
  writeCount(12, 0);
  writeCount(14, 0);
  writeStatus(span.status.code, span.status.message);
  writeFlags(16, spanFlags(SAMPLED, remoteParent));
}

/** The bytes written since `from`, as a copy of their own. */
function taken(from: number): Uint8Array {
  return buf.slice(from, pos);
}

/** Ends a request: its bytes copied out, and the scratch buffer let go when one large request grew it. */
function finish(): Uint8Array {
  const out = buf.slice(0, pos);
  pos = 0;
  if (buf.length > KEPT_SCRATCH_BYTES) {
    buf = new Uint8Array(INITIAL_SCRATCH_BYTES);
    view = new DataView(buf.buffer);
  }
  return out;
}

/** A Resource's field 1 of ResourceSpans, tag and length included. */
function encodeResource(attributes: WireAttributes): Uint8Array {
  const from = pos;
  writeTag(1, LENGTH);
  const at = open(ROOM_SPAN);
  writeAttributes(1, attributes);
  writeCount(2, 0);
  close(at, ROOM_SPAN);
  const bytes = taken(from);
  pos = from;
  return bytes;
}

/** An InstrumentationScope's field 1 of ScopeSpans, tag and length included. */
function encodeScope(scope: EncodableScope): Uint8Array {
  const from = pos;
  writeTag(1, LENGTH);
  const at = open(ROOM_SMALL);
  writeStringField(1, scope.name);
  if (scope.version) writeStringField(2, scope.version);
  if (scope.attributes) writeAttributes(3, scope.attributes);
  if (scope.droppedAttributesCount) writeCount(4, scope.droppedAttributesCount);
  close(at, ROOM_SMALL);
  const bytes = taken(from);
  pos = from;
  return bytes;
}

function writeRaw(bytes: Uint8Array): void {
  ensure(bytes.length);
  buf.set(bytes, pos);
  pos += bytes.length;
}

interface ScopeGroup {
  scope: Uint8Array;
  schemaUrl: string | undefined;
  /** By index into the request's spans. */
  spans: number[];
}

interface ResourceGroup {
  resource: Uint8Array;
  schemaUrl: string | undefined;
  scopes: Map<unknown, ScopeGroup>;
}

/**
 * Writes ResourceSpans → ScopeSpans → Span for spans grouped by `resourceKey` then `scopeKey`, in order
 * of first appearance, the Resource and scope bytes made once per group.
 */
function writeRequest<S>(
  spans: readonly S[],
  group: {
    resourceKey(span: S): unknown;
    resource(span: S): { bytes: Uint8Array; schemaUrl: string | undefined };
    scopeKey(span: S): unknown;
    scope(span: S): { bytes: Uint8Array; schemaUrl: string | undefined };
    write(span: S, index: number): void;
  },
): Uint8Array {
  // A request an exception cut short leaves nothing behind for this one.
  pos = 0;
  const resources = new Map<unknown, ResourceGroup>();
  let lastResourceKey: unknown;
  let lastScopeKey: unknown;
  let lastScope: ScopeGroup | undefined;
  for (let i = 0; i < spans.length; i++) {
    const span = spans[i]!;
    const resourceKey = group.resourceKey(span);
    const scopeKey = group.scopeKey(span);
    // Spans of one trace nearly always share both: the maps are asked only when they change.
    if (lastScope && resourceKey === lastResourceKey && scopeKey === lastScopeKey) {
      lastScope.spans.push(i);
      continue;
    }
    let resource = resources.get(resourceKey);
    if (!resource) {
      const { bytes, schemaUrl } = group.resource(span);
      resource = { resource: bytes, schemaUrl, scopes: new Map() };
      resources.set(resourceKey, resource);
    }
    let scope = resource.scopes.get(scopeKey);
    if (!scope) {
      const { bytes, schemaUrl } = group.scope(span);
      scope = { scope: bytes, schemaUrl, spans: [] };
      resource.scopes.set(scopeKey, scope);
    }
    scope.spans.push(i);
    lastResourceKey = resourceKey;
    lastScopeKey = scopeKey;
    lastScope = scope;
  }
  for (const resource of resources.values()) {
    writeTag(1, LENGTH);
    const resourceSpans = open(ROOM_GROUP);
    writeRaw(resource.resource);
    for (const scope of resource.scopes.values()) {
      writeTag(2, LENGTH);
      const scopeSpans = open(ROOM_GROUP);
      writeRaw(scope.scope);
      for (const index of scope.spans) {
        writeTag(2, LENGTH);
        const span = open(ROOM_SPAN);
        group.write(spans[index]!, index);
        close(span, ROOM_SPAN);
      }
      if (scope.schemaUrl) writeStringField(3, scope.schemaUrl);
      close(scopeSpans, ROOM_GROUP);
    }
    if (resource.schemaUrl) writeStringField(3, resource.schemaUrl);
    close(resourceSpans, ROOM_GROUP);
  }
  return finish();
}

// The SDK keeps one Resource per provider and one scope object per tracer: each is encoded once.
const sdkResources = new WeakMap<object, Uint8Array>();
const sdkScopes = new WeakMap<object, Uint8Array>();

function sdkResourceBytes(resource: EncodableSpan['resource']): Uint8Array {
  let bytes = sdkResources.get(resource);
  if (!bytes) {
    bytes = encodeResource(resource.attributes ?? {});
    // A resource still waiting for asynchronous attributes may gain some: encoded again next time.
    if ((resource as { asyncAttributesPending?: boolean }).asyncAttributesPending !== true) sdkResources.set(resource, bytes);
  }
  return bytes;
}

function sdkScopeBytes(scope: EncodableScope): Uint8Array {
  let bytes = sdkScopes.get(scope);
  if (!bytes) {
    bytes = encodeScope(scope);
    sdkScopes.set(scope, bytes);
  }
  return bytes;
}

/**
 * The request carrying SDK spans. `attributes[i]`, when given, goes on the wire in place of
 * `spans[i].attributes`.
 */
export function encodeSpans(spans: readonly EncodableSpan[], attributes?: readonly WireAttributes[]): Uint8Array {
  return writeRequest(spans, {
    resourceKey: (span) => span.resource,
    resource: (span) => ({ bytes: sdkResourceBytes(span.resource), schemaUrl: span.resource.schemaUrl }),
    scopeKey: (span) => span.instrumentationScope,
    scope: (span) => ({ bytes: sdkScopeBytes(span.instrumentationScope), schemaUrl: span.instrumentationScope.schemaUrl }),
    write: (span, index) => writeSdkSpan(span, attributes?.[index] ?? span.attributes),
  });
}

const localResources = new Map<string, Uint8Array>();

/** The stored resource as an SDK Resource keeps it: only non-empty keys with primitive values or homogeneous arrays. */
function localResourceBytes(key: string, attributes: LocalSpan['resource']): Uint8Array {
  let bytes = localResources.get(key);
  if (!bytes) {
    const kept: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(attributes)) if (name !== '' && isSimpleValue(value)) kept[name] = value;
    bytes = encodeResource(kept);
    if (localResources.size >= KEPT_LOCAL_RESOURCES) localResources.clear();
    localResources.set(key, bytes);
  }
  return bytes;
}

function isSimpleValue(value: unknown): boolean {
  if (!Array.isArray(value)) return isPrimitive(typeof value);
  let type: string | undefined;
  for (const item of value) {
    if (item == null) continue;
    const itemType = typeof item;
    if (itemType === type) continue;
    if (type !== undefined || !isPrimitive(itemType)) return false;
    type = itemType;
  }
  return true;
}

function isPrimitive(type: string): boolean {
  return type === 'string' || type === 'number' || type === 'boolean';
}

/**
 * The request carrying stored spans, as toReadableSpans rebuilds them: resources grouped by their
 * attributes, scopes by name and version, a parent remote only while it is not among `spans`.
 * `attributes[i]`, when given, goes on the wire in place of `spans[i].attributes`.
 */
export function encodeLocalSpans(spans: readonly LocalSpan[], attributes?: readonly WireAttributes[]): Uint8Array {
  const ids = new Set<string>();
  for (const span of spans) ids.add(span.spanId);
  // The same resource object is one group without its JSON text being made again.
  const resourceKeys = new Map<object, string>();
  const resourceKey = (span: LocalSpan): string => {
    let key = resourceKeys.get(span.resource);
    if (key === undefined) {
      key = JSON.stringify(span.resource);
      resourceKeys.set(span.resource, key);
    }
    return key;
  };
  return writeRequest(spans, {
    resourceKey,
    resource: (span) => ({ bytes: localResourceBytes(resourceKey(span), span.resource), schemaUrl: undefined }),
    scopeKey: (span) => scopeKey(span.scope),
    scope: (span) => ({ bytes: encodeScope(span.scope), schemaUrl: undefined }),
    write: (span, index) =>
      writeLocalSpan(
        span,
        attributes?.[index] ?? span.attributes,
        span.parentIsRemote === true && span.parentSpanId !== null && !ids.has(span.parentSpanId),
      ),
  });
}
