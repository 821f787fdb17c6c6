import type { Attributes, AttributeValue, Span } from '@opentelemetry/api';
import { MlflowAttr, type SpanType, type TokenUsage } from './mlflow-attributes.ts';

/**
 * MLflow stores every OTel attribute as JSON. Scalar strings must go plain (a JSON-quoted "\"LLM\""
 * looks right in the UI but defeats `span.type = 'LLM'` searches); objects go as JSON text, and a
 * top-level array is wrapped in an object because servers up to 3.8 read arrays back as strings.
 */
export function encodeJsonAttribute(value: unknown): string {
  return JSON.stringify(Array.isArray(value) ? { items: value } : (value ?? null));
}

export function setSpanType(span: Span, type: SpanType): void {
  span.setAttribute(MlflowAttr.spanType, type);
}

export function setSpanInputs(span: Span, inputs: unknown): void {
  span.setAttribute(MlflowAttr.spanInputs, encodeJsonAttribute(inputs));
}

export function setSpanOutputs(span: Span, outputs: unknown): void {
  span.setAttribute(MlflowAttr.spanOutputs, encodeJsonAttribute(outputs));
}

/** Only on leaf LLM spans: the server (and our REST path) sums these into the trace's token usage. */
export function setTokenUsage(span: Span, usage: { input: number; output: number }): void {
  const value: TokenUsage = {
    input_tokens: usage.input,
    output_tokens: usage.output,
    total_tokens: usage.input + usage.output,
  };
  span.setAttributes({
    [MlflowAttr.tokenUsage]: JSON.stringify(value),
    'gen_ai.usage.input_tokens': usage.input,
    'gen_ai.usage.output_tokens': usage.output,
  });
}

/**
 * Object-valued MLflow attributes. The SDK keeps only primitive attribute values, so they are
 * recorded as JSON text; over OTLP they go as structured values, because MLflow 3.6 stores a JSON
 * string double-encoded (no token total, raw-JSON previews) while every version decodes a
 * kvlistValue / arrayValue. `gen_ai.*` content stays JSON text: structured values there are untried.
 */
export const STRUCTURED_ON_OTLP: ReadonlySet<string> = new Set([
  MlflowAttr.spanInputs,
  MlflowAttr.spanOutputs,
  MlflowAttr.tokenUsage,
  MlflowAttr.chatTools,
]);

/**
 * What goes on the OTLP wire: the attributes as recorded, with the object-valued MLflow keys as
 * structured values, and minus `mlflow.traceRequestId`, which a client must never send over OTLP
 * (it overrides the id the server derives and breaks the UI).
 *
 * The result is typed as Attributes, though some values are plain objects: the API type is
 * narrower than the wire, and otlp-transformer's serializers turn objects into kvlistValue and
 * arrays into arrayValue.
 */
export function otlpAttributes(attributes: Attributes): Attributes {
  let wire: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(attributes)) {
    const structured = STRUCTURED_ON_OTLP.has(key) ? decodeJsonAttribute(value) : undefined;
    if (key !== MlflowAttr.traceRequestId && structured === undefined) continue;
    wire ??= { ...attributes };
    if (key === MlflowAttr.traceRequestId) delete wire[key];
    else wire[key] = structured;
  }
  return (wire as Attributes | undefined) ?? attributes;
}

/** Reads back a JSON-valued attribute written by the helpers above; undefined when absent or not JSON. */
export function decodeJsonAttribute(value: AttributeValue | undefined): unknown {
  if (typeof value !== 'string') return undefined;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}
