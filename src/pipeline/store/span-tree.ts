import { MlflowAttr } from '../../tracing/mlflow-attributes.ts';
import { sumTokenUsage } from '../../tracing/trace-summary.ts';
import { SPAN_STATUS_NAMES, type LocalSpan, type LocalTrace } from '../../spans/local-span.ts';
import { nanosToMs, tokenCounts } from './summarize-trace.ts';

export interface SpanTreeNode {
  span: LocalSpan;
  spanType?: string;
  status: 'OK' | 'ERROR' | 'UNSET';
  durationMs: number;
  tokens?: { input: number; output: number; total: number };
  children: SpanTreeNode[];
}

/**
 * The trace as a tree, children in start order. A span whose parent is not in the trace (another
 * process's span, or a root still open) starts a tree of its own.
 */
export function buildSpanTree(trace: LocalTrace): SpanTreeNode[] {
  const nodes = new Map(trace.spans.map((span) => [span.spanId, toNode(span)]));
  const roots: SpanTreeNode[] = [];
  // Spans are stored in start order, so children are appended in start order too.
  for (const node of nodes.values()) {
    const parent = node.span.parentSpanId === null ? undefined : nodes.get(node.span.parentSpanId);
    if (parent) parent.children.push(node);
    else roots.push(node);
  }
  return roots;
}

function toNode(span: LocalSpan): SpanTreeNode {
  const spanType = span.attributes[MlflowAttr.spanType];
  const usage = sumTokenUsage([span]);
  return {
    span,
    ...(typeof spanType === 'string' && { spanType }),
    status: SPAN_STATUS_NAMES[span.status.code] ?? 'UNSET',
    durationMs: nanosToMs(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)),
    ...(usage && { tokens: tokenCounts(usage) }),
    children: [],
  };
}
