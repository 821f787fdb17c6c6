import type { Attributes } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { MlflowAttr } from './mlflow-attributes.ts';
import { withAttributes } from './span-with-attributes.ts';

/** Attributes that carry what users and models said: prompts, answers, documents, tool arguments. */
const CONTENT_ATTRIBUTES: readonly string[] = [
  MlflowAttr.spanInputs,
  MlflowAttr.spanOutputs,
  'gen_ai.input.messages',
  'gen_ai.output.messages',
  'gen_ai.system_instructions',
];

/**
 * With content capture off, no span leaves the process with message content, whichever code made
 * it (request spans, retrieval, tools, the LLM instrumentation): one filter in front of the exporter
 * instead of a flag in every place that records inputs and outputs.
 */
export class ContentFilterExporter implements SpanExporter {
  readonly #inner: SpanExporter;

  constructor(inner: SpanExporter) {
    this.#inner = inner;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.#inner.export(spans.map((span) => withAttributes(span, withoutContent(span.attributes))), resultCallback);
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush?.() ?? Promise.resolve();
  }
}

function withoutContent(attributes: Attributes): Attributes {
  if (!CONTENT_ATTRIBUTES.some((key) => key in attributes)) return attributes;
  const kept: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) if (!CONTENT_ATTRIBUTES.includes(key)) kept[key] = value;
  return kept;
}
