import type { TraceSource } from './trace-source.ts';
import type { TraceInfo, TraceSpan } from '../mlflow/traces.ts';
import { SPAN_STATUS_NAMES } from '../spans/local-span.ts';
import type { TraceStore } from '../pipeline/store/trace-store.ts';
import { summarizeTrace } from '../pipeline/store/summarize-trace.ts';

/** The local store seen as MLflow would serve the same trace: its info as derived, its spans as stored. */
export function storedTraceSource(store: TraceStore): TraceSource {
  return {
    name: `the local store ${store.dir}`,
    async info(traceId) {
      const trace = store.reads.get(traceId);
      if (!trace) return undefined;
      const summary = summarizeTrace(trace);
      const info: TraceInfo = {
        traceId: trace.traceId,
        requestTime: summary.startTime,
        state: summary.status,
        metadata: {},
        tags: {},
        ...(summary.requestPreview !== undefined && { requestPreview: summary.requestPreview }),
        ...(summary.responsePreview !== undefined && { responsePreview: summary.responsePreview }),
      };
      if (summary.tokens) {
        const { input, output, total } = summary.tokens;
        info.metadata['mlflow.trace.tokenUsage'] = JSON.stringify({ input_tokens: input, output_tokens: output, total_tokens: total });
      }
      return info;
    },
    async spans(traceId) {
      const trace = store.reads.get(traceId);
      return trace?.spans.map(
        (span): TraceSpan => ({
          name: span.name,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId,
          startTimeNs: BigInt(span.startTimeUnixNano),
          endTimeNs: BigInt(span.endTimeUnixNano),
          statusCode: SPAN_STATUS_NAMES[span.status.code] ?? 'UNSET',
          attributes: span.attributes,
        }),
      );
    },
  };
}
