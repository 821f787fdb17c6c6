import type { TraceInfo, TraceSpan } from '../../mlflow/traces.ts';
import { pollUntil } from '../../read-back/poll-until.ts';
import type { TraceSource } from '../../read-back/trace-source.ts';
import { MlflowAttr } from '../../tracing/mlflow-attributes.ts';
import { TEST_TRACE_SPANS, type SentTestTrace } from './test-traces.ts';

export interface ReadBackTrace {
  traceId: string;
  found: boolean;
  state?: string;
  spanNames: string[];
  spanTypes: Record<string, string>;
  tokenUsage?: { input_tokens?: number; output_tokens?: number; total_tokens?: number };
  requestPreview?: string;
  responsePreview?: string;
  /** Everything that differs from what was sent; empty when the trace landed intact. */
  problems: string[];
}

export interface ReadBackOptions {
  source: TraceSource;
  /** Absolute time (ms since epoch) after which a trace not yet visible counts as missing. */
  deadline: number;
  now?: () => number;
}

/**
 * Proves one test trace landed: its info is readable and no longer in progress, and its spans, as
 * MLflow's UI loads them (or the local store keeps them), are the ones sent, with types and token usage intact.
 */
export async function readBackTrace(sent: SentTestTrace, options: ReadBackOptions): Promise<ReadBackTrace> {
  const result: ReadBackTrace = { traceId: sent.traceId, found: false, spanNames: [], spanTypes: {}, problems: [] };
  const { info, spans } = await pollUntil(
    async (): Promise<{ info?: TraceInfo | undefined; spans?: TraceSpan[] | undefined }> => {
      const info = await options.source.info(sent.traceId);
      return { info, spans: info && info.state !== 'IN_PROGRESS' ? await options.source.spans(sent.traceId) : undefined };
    },
    ({ spans }) => spans !== undefined && spans.length >= TEST_TRACE_SPANS.length,
    options.deadline,
    options.now,
  );

  if (!info) {
    result.problems.push(`not found in ${options.source.name} before the deadline`);
    return result;
  }
  result.found = true;
  result.state = info.state;
  if (info.requestPreview !== undefined) result.requestPreview = info.requestPreview;
  if (info.responsePreview !== undefined) result.responsePreview = info.responsePreview;
  const usage = parseJson(info.metadata['mlflow.trace.tokenUsage']);
  if (usage && typeof usage === 'object') result.tokenUsage = usage as NonNullable<ReadBackTrace['tokenUsage']>;

  if (info.state !== 'OK') result.problems.push(`state is ${info.state}, expected OK`);
  for (const span of spans ?? []) {
    result.spanNames.push(span.name);
    const type = span.attributes[MlflowAttr.spanType];
    if (typeof type === 'string') result.spanTypes[span.name] = type;
  }
  const missing = TEST_TRACE_SPANS.filter((name) => !result.spanNames.includes(name));
  if (!spans) result.problems.push(`its spans could not be read from ${options.source.name}`);
  else if (missing.length > 0) result.problems.push(`spans missing: ${missing.join(', ')}`);
  if (spans && !result.spanTypes.llm_call) result.problems.push('the llm_call span has no span type');

  const expectedTotal = sent.usage.input + sent.usage.output;
  if (result.tokenUsage?.total_tokens !== expectedTotal) {
    result.problems.push(
      `trace token usage is ${result.tokenUsage?.total_tokens ?? 'missing'}, expected ${expectedTotal} (summed once from the LLM span)`,
    );
  }
  // Every server version derives these from structured OTLP values; raw JSON here means the encoding regressed.
  if (result.requestPreview !== sent.question) result.problems.push('the request preview is not the question');
  if (result.responsePreview !== sent.answer) result.problems.push('the response preview is not the answer');
  return result;
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
