import { SpanStatusCode, type AttributeValue } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { decodeJsonAttribute } from './encode-attributes.ts';
import { MlflowAttr, type TokenUsage } from './mlflow-attributes.ts';

/** Self-hosted servers keep previews in a String(1000) column that Postgres and MySQL enforce. */
const PREVIEW_LIMIT = 1000;

/** The local root: no parent, or a parent in another process (an incoming traceparent). */
export function isLocalRoot(span: ReadableSpan): boolean {
  const parent = span.parentSpanContext;
  return parent === undefined || parent.isRemote === true;
}

export function findRoot(spans: readonly ReadableSpan[]): ReadableSpan | undefined {
  return spans.find(isLocalRoot);
}

/** Sum of the leaf LLM spans' usage, as the OTLP server derives it (the REST path must do it itself). */
export function sumTokenUsage(spans: readonly Pick<ReadableSpan, 'attributes'>[]): TokenUsage | undefined {
  let total: TokenUsage | undefined;
  for (const span of spans) total = addTokenUsage(total, decodeJsonAttribute(span.attributes[MlflowAttr.tokenUsage]));
  return total;
}

/** `total` with one span's usage (the attribute as parsed JSON) added; anything but an object adds nothing. */
export function addTokenUsage(total: TokenUsage | undefined, parsed: unknown): TokenUsage | undefined {
  if (!parsed || typeof parsed !== 'object') return total;
  const usage = parsed as Partial<TokenUsage>;
  const sum = total ?? { input_tokens: 0, output_tokens: 0, total_tokens: 0 };
  sum.input_tokens += Number(usage.input_tokens ?? 0);
  sum.output_tokens += Number(usage.output_tokens ?? 0);
  sum.total_tokens += Number(usage.total_tokens ?? Number(usage.input_tokens ?? 0) + Number(usage.output_tokens ?? 0));
  return sum;
}

/**
 * The preview MLflow's UI shows, derived as the server does on the OTLP path: the last user message of
 * chat-shaped inputs, the assistant's text of an OpenAI-shaped response, else the raw JSON text.
 */
export function previewOf(value: AttributeValue | undefined, side: 'request' | 'response'): string | undefined {
  if (typeof value !== 'string') return undefined;
  return previewFrom(decodeJsonAttribute(value), value, side);
}

/** The same from the attribute's text and that text already parsed (undefined, or the text itself, when it is not JSON). */
export function previewFrom(parsed: unknown, value: string, side: 'request' | 'response'): string {
  const text = (side === 'request' ? lastUserMessage(parsed) : assistantText(parsed)) ?? value;
  return text.length > PREVIEW_LIMIT ? text.slice(0, PREVIEW_LIMIT) : text;
}

function lastUserMessage(inputs: unknown): string | undefined {
  const messages = (inputs as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages)) return undefined;
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i] as { role?: unknown; content?: unknown };
    if (message?.role === 'user') return contentText(message.content);
  }
  return undefined;
}

function assistantText(outputs: unknown): string | undefined {
  const choices = (outputs as { choices?: unknown } | null)?.choices;
  if (!Array.isArray(choices) || choices.length === 0) return undefined;
  return contentText((choices[0] as { message?: { content?: unknown } }).message?.content);
}

function contentText(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part) => (typeof part === 'object' && part !== null && 'text' in part ? String(part.text) : '')).join('');
  }
  return undefined;
}

export function traceState(root: { status: { code: number } } | undefined): 'OK' | 'ERROR' | 'IN_PROGRESS' {
  if (!root) return 'IN_PROGRESS';
  return root.status.code === SpanStatusCode.ERROR ? 'ERROR' : 'OK';
}
