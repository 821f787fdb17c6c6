import type { Attributes, HrTime } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { decodeOtlpProtobuf } from '../otlp/otlp-decode.ts';
import { toLocalSpans } from '../otlp/to-local-spans.ts';
import type { LocalSpan } from '../spans/local-span.ts';
import { toReadableSpans } from '../spans/readable-spans.ts';
import { otlpAttributes, STRUCTURED_ON_OTLP } from '../tracing/encode-attributes.ts';
import { MlflowAttr, type TokenUsage } from '../tracing/mlflow-attributes.ts';
import { withAttributes } from '../tracing/span-with-attributes.ts';
import { addTokenUsage, previewFrom, traceState } from '../tracing/trace-summary.ts';

/** What a list shows of a trace without reading its spans, derived as MLflow derives it. */
export interface TraceFacts {
  /** The earliest span's start, in whole milliseconds. */
  startMs: number;
  /** To the microsecond. */
  durationMs: number;
  rootName: string;
  status: 'OK' | 'ERROR' | 'IN_PROGRESS';
  spanCount: number;
  tokens?: { input: number; output: number; total: number };
  requestPreview?: string;
  responsePreview?: string;
}

/**
 * One trace encoded once, as every OTLP destination takes it: an `ExportTraceServiceRequest` of this
 * trace alone. Its top-level field (repeated `resource_spans`) is all it holds, so the bytes of many
 * traces put one after the other are the request that carries them all: a batch is never re-encoded.
 */
export interface EncodedTrace {
  /** The OTel trace id, 32 lowercase hex digits. */
  hex: string;
  otlp: Uint8Array;
  facts: TraceFacts;
}

/**
 * Encodes one trace's finished spans (in start order, a parent first on ties) and derives its facts in
 * the same pass. The spans carry attributes as recorded; on the wire the object-valued MLflow keys go
 * structured and `mlflow.traceRequestId` stays behind (see otlpAttributes).
 */
export function encodeTrace(spans: ReadableSpan[]): EncodedTrace {
  const first = spans[0];
  if (!first) throw new Error('encodeTrace needs at least one span');
  spans.sort(startOrder);
  const ids = new Set<string>();
  for (const span of spans) ids.add(span.spanContext().spanId);
  let root: ReadableSpan | undefined;
  let top: ReadableSpan | undefined;
  let start = first.startTime;
  let end = first.endTime;
  let rootWire: Attributes | undefined;
  let usage: TokenUsage | undefined;
  const wire: ReadableSpan[] = [];
  for (const span of spans) {
    const parent = span.parentSpanContext;
    const outside = parent === undefined || !ids.has(parent.spanId);
    // The object-valued keys are parsed once, for the wire; the summary reads the parsed values.
    const attributes = otlpAttributes(span.attributes);
    if (!root && (parent === undefined || (parent.isRemote === true && outside))) {
      root = span;
      rootWire = attributes;
    }
    if (!top && outside) top = span;
    if (compareHr(span.startTime, start) < 0) start = span.startTime;
    if (compareHr(span.endTime, end) > 0) end = span.endTime;
    if (MlflowAttr.tokenUsage in attributes) usage = addTokenUsage(usage, attributes[MlflowAttr.tokenUsage]);
    wire.push(withAttributes(span, attributes));
  }
  const preview = (key: string, side: 'request' | 'response') => {
    const text = root?.attributes[key];
    return typeof text === 'string' ? previewFrom(rootWire?.[key], text, side) : undefined;
  };
  const requestPreview = preview(MlflowAttr.spanInputs, 'request');
  const responsePreview = preview(MlflowAttr.spanOutputs, 'response');
  const facts: TraceFacts = {
    startMs: start[0] * 1000 + Math.floor(start[1] / 1_000_000),
    durationMs: durationMs(start, end),
    // Until the root arrives, the top of what there is stands in for it.
    rootName: (root ?? top)?.name ?? '',
    status: traceState(root),
    spanCount: spans.length,
    ...(usage && { tokens: { input: usage.input_tokens, output: usage.output_tokens, total: usage.total_tokens } }),
    ...(requestPreview !== undefined && { requestPreview }),
    ...(responsePreview !== undefined && { responsePreview }),
  };
  return { hex: first.spanContext().traceId.toLowerCase(), otlp: ProtobufTraceSerializer.serializeRequest(wire)!, facts };
}

/** Spans kept or received as LocalSpans (a relayed trace, a merge, an older store), encoded as above. */
export function encodeLocalTrace(spans: readonly LocalSpan[]): EncodedTrace {
  return encodeTrace(toReadableSpans(spans));
}

/**
 * Whether the bytes are whole `resource_spans` fields one after the other, as encodeTrace makes them:
 * a record cut short or overwritten on disk is found without decoding it, and is never sent.
 */
export function isWholeRequest(otlp: Uint8Array): boolean {
  let at = 0;
  while (at < otlp.length) {
    if (otlp[at++] !== RESOURCE_SPANS_TAG) return false;
    let length = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = otlp[at++];
      if (byte === undefined || shift > 28) return false;
      length += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) break;
    }
    at += length;
  }
  return at === otlp.length && otlp.length > 0;
}

/** Field 1 (`resource_spans`), length-delimited. */
const RESOURCE_SPANS_TAG = 0x0a;

/**
 * A stored trace's spans, decoded when someone asks to see them (or a REST destination needs them):
 * the object-valued MLflow keys back to the JSON text they were recorded as.
 */
export function decodeTrace(otlp: Uint8Array): LocalSpan[] {
  return inStartOrder(toLocalSpans(decodeOtlpProtobuf(otlp), { jsonText: STRUCTURED_ON_OTLP }).spans);
}

/** Sorted in place by start time, a parent before its children on ties: the order a trace is stored and sent in. */
export function inStartOrder(spans: LocalSpan[]): LocalSpan[] {
  const depth = (span: LocalSpan) => (span.parentSpanId === null ? 0 : 1);
  return spans.sort((a, b) => {
    const startA = BigInt(a.startTimeUnixNano);
    const startB = BigInt(b.startTimeUnixNano);
    return startA === startB ? depth(a) - depth(b) : startA < startB ? -1 : 1;
  });
}

function startOrder(a: ReadableSpan, b: ReadableSpan): number {
  const byStart = compareHr(a.startTime, b.startTime);
  if (byStart !== 0) return byStart;
  return (a.parentSpanContext === undefined ? 0 : 1) - (b.parentSpanContext === undefined ? 0 : 1);
}

function compareHr(a: HrTime, b: HrTime): number {
  return a[0] === b[0] ? a[1] - b[1] : a[0] - b[0];
}

/** Milliseconds to the microsecond; a trace that ends before it starts lasts 0. */
function durationMs(start: HrTime, end: HrTime): number {
  const nanos = (end[0] - start[0]) * 1_000_000_000 + (end[1] - start[1]);
  return nanos > 0 ? Math.floor(nanos / 1000) / 1000 : 0;
}
