import type { Attributes, HrTime, Link, SpanContext, SpanStatus } from '@opentelemetry/api';
import { scopeKey, type LocalSpan } from '../spans/local-span.ts';
import { decimalNanosToHr } from '../spans/span-codec.ts';
import { getOrInsert } from '../util/get-or-insert.ts';
import { FIXED32, FIXED64, LENGTH, ProtobufWriter, VARINT, varintSize } from './protobuf-writer.ts';

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

/** SpanFlags (`trace.proto`): whether the parent's remoteness is known, and its value. */
const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;

const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;
/** Encoded stored resources kept by their JSON text; a process sees a handful. */
const KEPT_LOCAL_RESOURCES = 64;

/** What a nested message's length is first given room for, before its size is known. */
const ROOM_SMALL = 1;
const ROOM_LIST = 2;
const ROOM_SPAN = 2;
/** A request's groups: one trace's spans take more than 127 bytes and seldom 16 KiB. */
const ROOM_GROUP = 2;

// One scratch buffer for every request: encoding is synchronous.
const w = new ProtobufWriter();

function writeStringField(field: number, text: string): void {
  w.tag(field, LENGTH);
  w.string(text);
}

function writeHexField(field: number, hex: string): void {
  w.tag(field, LENGTH);
  w.hex(hex);
}

function writeTime(field: number, time: HrTime): void {
  w.tag(field, FIXED64);
  w.hrTime(time[0], time[1]);
}

function writeAttributes(field: number, attributes: WireAttributes): void {
  for (const key in attributes) {
    if (!Object.hasOwn(attributes, key)) continue;
    const value = attributes[key];
    w.tag(field, LENGTH);
    const room = roomFor(value, key.length + 8);
    const keyValue = w.open(room);
    writeStringField(1, key);
    writeNestedValue(2, value);
    w.close(keyValue, room);
  }
}

/** An AnyValue as a field of its own (a KeyValue's value, an array's item). */
function writeNestedValue(field: number, value: unknown): void {
  w.tag(field, LENGTH);
  const room = roomFor(value, 3);
  const at = w.open(room);
  writeAnyValue(value);
  w.close(at, room);
}

/**
 * The room a value's enclosing length most likely takes (`overhead`: the bytes around the value), so
 * that its bytes are seldom moved: a text's by its length, a list's two bytes, a scalar's one.
 */
function roomFor(value: unknown, overhead: number): number {
  if (typeof value === 'string') return varintSize(value.length + overhead);
  return typeof value === 'object' && value !== null ? ROOM_LIST : ROOM_SMALL;
}

function writeAnyValue(value: unknown): void {
  switch (typeof value) {
    case 'string':
      writeStringField(1, value);
      return;
    case 'boolean':
      w.tag(2, VARINT);
      w.uint32(value ? 1 : 0);
      return;
    case 'number':
      if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64) {
        w.tag(3, VARINT);
        w.varint(value);
      } else {
        w.tag(4, FIXED64);
        w.double(value);
      }
      return;
    case 'object':
      break;
    default:
      return;
  }
  if (value instanceof Uint8Array) {
    w.tag(7, LENGTH);
    w.bytes(value);
  } else if (Array.isArray(value)) {
    w.tag(5, LENGTH);
    const array = w.open(ROOM_LIST);
    for (const item of value) writeNestedValue(1, item);
    w.close(array, ROOM_LIST);
  } else if (value !== null) {
    w.tag(6, LENGTH);
    const list = w.open(ROOM_LIST);
    writeAttributes(1, value as WireAttributes);
    w.close(list, ROOM_LIST);
  }
}

function spanFlags(traceFlags: number, remoteParent: boolean | undefined): number {
  return (traceFlags & 0xff) | HAS_IS_REMOTE | (remoteParent ? IS_REMOTE : 0);
}

function writeFlags(field: number, flags: number): void {
  w.tag(field, FIXED32);
  w.fixed32(flags);
}

function writeCount(field: number, count: number | undefined): void {
  w.tag(field, VARINT);
  w.varint(count || 0);
}

function writeStatus(code: number, message: string | undefined): void {
  w.tag(15, LENGTH);
  const status = w.open(ROOM_SMALL);
  if (message) writeStringField(2, message);
  w.tag(3, VARINT);
  w.varint(code);
  w.close(status, ROOM_SMALL);
}

function writeEvent(time: HrTime, name: string, attributes: WireAttributes | undefined, dropped: number | undefined): void {
  w.tag(11, LENGTH);
  const event = w.open(ROOM_SMALL);
  writeTime(1, time);
  writeStringField(2, name);
  if (attributes) writeAttributes(3, attributes);
  writeCount(4, dropped);
  w.close(event, ROOM_SMALL);
}

function writeLink(link: Link): void {
  w.tag(13, LENGTH);
  const at = w.open(ROOM_SPAN);
  const context = link.context;
  writeHexField(1, context.traceId);
  writeHexField(2, context.spanId);
  const traceState = context.traceState?.serialize();
  if (traceState) writeStringField(3, traceState);
  if (link.attributes) writeAttributes(4, link.attributes);
  writeCount(5, link.droppedAttributesCount);
  writeFlags(6, spanFlags(context.traceFlags, context.isRemote));
  w.close(at, ROOM_SPAN);
}

/** The span's `kind` on the wire: the SDK's SpanKind starts at INTERNAL = 0, the wire's at UNSPECIFIED = 0. */
function writeKind(kind: number | null | undefined): void {
  const wire = kind == null ? 0 : kind + 1;
  if (wire === 0) return;
  w.tag(6, VARINT);
  w.varint(wire);
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
  writeTime(7, span.startTime);
  writeTime(8, span.endTime);
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
  writeTime(7, decimalNanosToHr(span.startTimeUnixNano));
  writeTime(8, decimalNanosToHr(span.endTimeUnixNano));
  writeAttributes(9, attributes);
  writeCount(10, 0);
  for (const event of span.events) writeEvent(decimalNanosToHr(event.timeUnixNano), event.name, event.attributes, 0);
  writeCount(12, 0);
  writeCount(14, 0);
  writeStatus(span.status.code, span.status.message);
  writeFlags(16, spanFlags(SAMPLED, remoteParent));
}

/** A Resource's field 1 of ResourceSpans, tag and length included. */
function encodeResource(attributes: WireAttributes): Uint8Array {
  const from = w.pos;
  w.tag(1, LENGTH);
  const at = w.open(ROOM_SPAN);
  writeAttributes(1, attributes);
  writeCount(2, 0);
  w.close(at, ROOM_SPAN);
  const bytes = w.copy(from);
  w.pos = from;
  return bytes;
}

/** An InstrumentationScope's field 1 of ScopeSpans, tag and length included. */
function encodeScope(scope: EncodableScope): Uint8Array {
  const from = w.pos;
  w.tag(1, LENGTH);
  const at = w.open(ROOM_SMALL);
  writeStringField(1, scope.name);
  if (scope.version) writeStringField(2, scope.version);
  if (scope.attributes) writeAttributes(3, scope.attributes);
  if (scope.droppedAttributesCount) writeCount(4, scope.droppedAttributesCount);
  w.close(at, ROOM_SMALL);
  const bytes = w.copy(from);
  w.pos = from;
  return bytes;
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
  w.pos = 0;
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
    const resource = getOrInsert(resources, resourceKey, () => {
      const { bytes, schemaUrl } = group.resource(span);
      return { resource: bytes, schemaUrl, scopes: new Map() };
    });
    const scope = getOrInsert(resource.scopes, scopeKey, () => {
      const { bytes, schemaUrl } = group.scope(span);
      return { scope: bytes, schemaUrl, spans: [] };
    });
    scope.spans.push(i);
    lastResourceKey = resourceKey;
    lastScopeKey = scopeKey;
    lastScope = scope;
  }
  for (const resource of resources.values()) {
    w.tag(1, LENGTH);
    const resourceSpans = w.open(ROOM_GROUP);
    w.raw(resource.resource);
    for (const scope of resource.scopes.values()) {
      w.tag(2, LENGTH);
      const scopeSpans = w.open(ROOM_GROUP);
      w.raw(scope.scope);
      for (const index of scope.spans) {
        w.tag(2, LENGTH);
        const span = w.open(ROOM_SPAN);
        group.write(spans[index]!, index);
        w.close(span, ROOM_SPAN);
      }
      if (scope.schemaUrl) writeStringField(3, scope.schemaUrl);
      w.close(scopeSpans, ROOM_GROUP);
    }
    if (resource.schemaUrl) writeStringField(3, resource.schemaUrl);
    w.close(resourceSpans, ROOM_GROUP);
  }
  return w.finish();
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
  return getOrInsert(sdkScopes, scope, () => encodeScope(scope));
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
  const resourceKey = (span: LocalSpan): string => getOrInsert(resourceKeys, span.resource, () => JSON.stringify(span.resource));
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
