import { MlflowAttr, type TokenUsage } from '../../tracing/mlflow-attributes.ts';
import { previewOf, sumTokenUsage, traceState } from '../../tracing/trace-summary.ts';
import type { LocalSpan, LocalTrace } from '../../spans/local-span.ts';
import type { LocalTraceSummary } from './stored-trace.ts';

/** What MLflow would show for the trace in its list: derived as the server derives it from the spans. */
export function summarizeTrace(trace: LocalTrace): LocalTraceSummary {
  const root = findLocalRoot(trace.spans);
  const starts = trace.spans.map((span) => BigInt(span.startTimeUnixNano));
  const ends = trace.spans.map((span) => BigInt(span.endTimeUnixNano));
  // biome-ignore lint/complexity/useMathMinMax: these are bigints, which Math.min and Math.max throw on
  const start = starts.reduce((a, b) => (b < a ? b : a), starts[0] ?? 0n);
  // biome-ignore lint/complexity/useMathMinMax: these are bigints, which Math.min and Math.max throw on
  const end = ends.reduce((a, b) => (b > a ? b : a), ends[0] ?? 0n);
  const usage = sumTokenUsage(trace.spans);
  const requestPreview = previewOf(root?.attributes[MlflowAttr.spanInputs], 'request');
  const responsePreview = previewOf(root?.attributes[MlflowAttr.spanOutputs], 'response');
  // Until the root arrives, the top of what there is stands in for it.
  const top = root?.name ?? trace.spans.find((span) => !trace.spans.some((s) => s.spanId === span.parentSpanId))?.name;
  return {
    traceId: trace.traceId,
    startTime: new Date(Number(start / 1_000_000n)).toISOString(),
    rootName: top ?? '',
    status: traceState(root),
    spanCount: trace.spans.length,
    durationMs: nanosToMs(end > start ? end - start : 0n),
    ...(usage && { tokens: tokenCounts(usage) }),
    ...(requestPreview !== undefined && { requestPreview }),
    ...(responsePreview !== undefined && { responsePreview }),
  };
}

/**
 * The span the SDK would call the local root: no parent, or a parent in another process that is not
 * in the trace (once the other process's spans were merged in, the trace is one tree).
 */
function findLocalRoot(spans: readonly LocalSpan[]): LocalSpan | undefined {
  const spanIds = new Set(spans.map((span) => span.spanId));
  return spans.find((span) => span.parentSpanId === null || (span.parentIsRemote === true && !spanIds.has(span.parentSpanId)));
}

export function tokenCounts(usage: TokenUsage): NonNullable<LocalTraceSummary['tokens']> {
  return { input: usage.input_tokens, output: usage.output_tokens, total: usage.total_tokens };
}

/** Milliseconds to the microsecond: enough for a duration column, exact enough for scripts. */
export function nanosToMs(nanos: bigint): number {
  return Number(nanos / 1000n) / 1000;
}

/** Stable keys for scripts: every key always present, null when there is no value. */
export function summaryJson(summary: LocalTraceSummary) {
  return {
    traceId: summary.traceId,
    startTime: summary.startTime,
    rootName: summary.rootName,
    status: summary.status,
    spanCount: summary.spanCount,
    durationMs: summary.durationMs,
    tokens: summary.tokens ?? null,
    requestPreview: summary.requestPreview ?? null,
    responsePreview: summary.responsePreview ?? null,
  };
}
