import type { Attributes, HrTime } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { encodeLocalSpans, encodeSpans } from '../otlp/otlp-encode.ts';
import { decimalNanosToHr } from '../spans/span-codec.ts';
import type { LocalSpan } from '../spans/local-span.ts';
import { otlpAttributes } from '../tracing/encode-attributes.ts';
import { MlflowAttr, type TokenUsage } from '../tracing/mlflow-attributes.ts';
import { addTokenUsage, previewFrom, traceState } from '../tracing/trace-summary.ts';
import type { EncodedTrace, TraceFacts } from './encoded-trace.ts';

/** What the facts are read from, whichever form a span came in. */
interface SpanView<S> {
  span: S;
  traceId: string;
  spanId: string;
  /** Undefined without a parent. */
  parentId: string | undefined;
  parentIsRemote: boolean;
  start: HrTime;
  end: HrTime;
  name: string;
  status: { code: number };
  attributes: Attributes;
}

/**
 * Encodes one trace's finished spans (in start order, a parent first on ties) and derives its facts in
 * the same pass. The spans carry attributes as recorded; on the wire the object-valued MLflow keys go
 * structured and `mlflow.traceRequestId` stays behind (see otlpAttributes).
 */
export function encodeTrace(spans: ReadableSpan[]): EncodedTrace {
  return encodeViews(
    spans.map((span) => {
      const parent = span.parentSpanContext;
      const context = span.spanContext();
      return {
        span,
        traceId: context.traceId,
        spanId: context.spanId,
        parentId: parent?.spanId,
        parentIsRemote: parent?.isRemote === true,
        start: span.startTime,
        end: span.endTime,
        name: span.name,
        status: span.status,
        attributes: span.attributes,
      };
    }),
    encodeSpans,
  );
}

/** Spans kept or received as LocalSpans (a relayed trace, a merge, an older store), encoded as above. */
export function encodeLocalTrace(spans: readonly LocalSpan[]): EncodedTrace {
  return encodeViews(
    spans.map((span) => ({
      span,
      traceId: span.traceId,
      spanId: span.spanId,
      parentId: span.parentSpanId ?? undefined,
      parentIsRemote: span.parentIsRemote === true,
      start: decimalNanosToHr(span.startTimeUnixNano),
      end: decimalNanosToHr(span.endTimeUnixNano),
      name: span.name,
      status: span.status,
      attributes: span.attributes,
    })),
    encodeLocalSpans,
  );
}

function encodeViews<S>(views: SpanView<S>[], encode: (spans: S[], attributes: Attributes[]) => Uint8Array): EncodedTrace {
  const first = views[0];
  if (!first) throw new Error('encodeTrace needs at least one span');
  views.sort(startOrder);
  const ids = new Set<string>();
  for (const view of views) ids.add(view.spanId);
  let root: SpanView<S> | undefined;
  let top: SpanView<S> | undefined;
  let start = first.start;
  let end = first.end;
  let rootWire: Attributes | undefined;
  let usage: TokenUsage | undefined;
  const wire: Attributes[] = [];
  for (const view of views) {
    const outside = view.parentId === undefined || !ids.has(view.parentId);
    // The object-valued keys are parsed once, for the wire; the summary reads the parsed values.
    const attributes = otlpAttributes(view.attributes);
    if (!root && (view.parentId === undefined || (view.parentIsRemote && outside))) {
      root = view;
      rootWire = attributes;
    }
    if (!top && outside) top = view;
    if (compareHr(view.start, start) < 0) start = view.start;
    if (compareHr(view.end, end) > 0) end = view.end;
    if (MlflowAttr.tokenUsage in attributes) usage = addTokenUsage(usage, attributes[MlflowAttr.tokenUsage]);
    wire.push(attributes);
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
    spanCount: views.length,
    ...(usage && { tokens: { input: usage.input_tokens, output: usage.output_tokens, total: usage.total_tokens } }),
    ...(requestPreview !== undefined && { requestPreview }),
    ...(responsePreview !== undefined && { responsePreview }),
  };
  return {
    hex: first.traceId.toLowerCase(),
    otlp: encode(
      views.map((view) => view.span),
      wire,
    ),
    facts,
  };
}

function startOrder(a: SpanView<unknown>, b: SpanView<unknown>): number {
  const byStart = compareHr(a.start, b.start);
  if (byStart !== 0) return byStart;
  return (a.parentId === undefined ? 0 : 1) - (b.parentId === undefined ? 0 : 1);
}

function compareHr(a: HrTime, b: HrTime): number {
  return a[0] === b[0] ? a[1] - b[1] : a[0] - b[0];
}

/** Milliseconds to the microsecond; a trace that ends before it starts lasts 0. */
function durationMs(start: HrTime, end: HrTime): number {
  const nanos = (end[0] - start[0]) * 1_000_000_000 + (end[1] - start[1]);
  return nanos > 0 ? Math.floor(nanos / 1000) / 1000 : 0;
}
