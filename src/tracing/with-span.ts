import { SpanStatusCode, context, trace, type Span, type Tracer } from '@opentelemetry/api';
import { setSpanInputs, setSpanOutputs, setSpanType } from './encode-attributes.ts';
import type { SpanType } from './mlflow-attributes.ts';

export interface SpanOptions<T> {
  type: SpanType;
  inputs?: unknown;
  /** What MLflow shows as the span's outputs; by default the function's result. */
  outputs?: (result: T) => unknown;
}

/**
 * Runs `work` inside a child span of the active one, with MLflow's span type, inputs and outputs, and
 * ends it however `work` finishes: OK when it returns (MLflow shows UNSET as a status nobody set),
 * ERROR with the exception recorded when it throws, and the error is rethrown.
 */
export async function withSpan<T>(tracer: Tracer, name: string, options: SpanOptions<T>, work: (span: Span) => Promise<T>): Promise<T> {
  const span = tracer.startSpan(name);
  setSpanType(span, options.type);
  if (options.inputs !== undefined) setSpanInputs(span, options.inputs);
  try {
    const result = await context.with(trace.setSpan(context.active(), span), () => work(span));
    setSpanOutputs(span, options.outputs ? options.outputs(result) : result);
    span.setStatus({ code: SpanStatusCode.OK });
    return result;
  } catch (error) {
    markSpanFailed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

export function markSpanFailed(span: Span, error: unknown): void {
  const exception = error instanceof Error ? error : new Error(String(error));
  span.recordException(exception);
  span.setStatus({ code: SpanStatusCode.ERROR, message: exception.message });
}
