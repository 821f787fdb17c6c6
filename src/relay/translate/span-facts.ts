import type { LocalSpan } from '../../spans/local-span.ts';

export type SpanAttributes = LocalSpan['attributes'];

export interface TokenCounts {
  input: number;
  output: number;
  total: number;
}

/**
 * What one instrumentation convention says about a span, in MLflow's terms. Inputs and outputs are
 * JS values (encoded later); `chatShaped` marks those built here in OpenAI's chat shape, the only
 * ones that may claim `mlflow.message.format: openai`.
 */
export interface SpanFacts {
  spanType?: string;
  inputs?: unknown;
  outputs?: unknown;
  inputsChatShaped?: boolean;
  outputsChatShaped?: boolean;
  usage?: TokenCounts;
  model?: string;
  provider?: string;
  tools?: unknown[];
}

/** A convention's reader: undefined when the span carries nothing of that convention. */
export type FactReader = (span: LocalSpan) => SpanFacts | undefined;
