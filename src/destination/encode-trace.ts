import type { Attributes, HrTime } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { LocalSpan } from '../spans/local-span.ts';
import { toReadableSpans } from '../spans/readable-spans.ts';
import { otlpAttributes } from '../tracing/encode-attributes.ts';
import { MlflowAttr, type TokenUsage } from '../tracing/mlflow-attributes.ts';
import { withAttributes } from '../tracing/span-with-attributes.ts';
import { addTokenUsage, previewFrom, traceState } from '../tracing/trace-summary.ts';
import type { EncodedTrace, TraceFacts } from './encoded-trace.ts';

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
