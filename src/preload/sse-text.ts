/** A body that is a server-sent event stream starts with one of its fields, or a comment. */
const SSE_START = /^(?:(?:data|event|id|retry):|:)/;
/** Event types whose `delta` is the answer's text: the AI SDK's `text-delta`, the Responses API's `response.output_text.delta`. */
const TEXT_DELTA = /(?:^|[._-])text[._-]delta$/;

/**
 * The text a server-sent event stream carried, as the person it streamed to read it: the text pieces
 * of its events, joined. A streaming chat endpoint answers so, and its raw frames
 * (`data: {"delta":"Hel"}` …) would be MLflow's preview of the request's answer. The pieces are found
 * where the usual shapes put them: a plain-text `data:`, a JSON string, `delta`, `text`, `content` or
 * `token` (an app's own), the AI SDK's UI message stream and the Responses API's events (`text-delta`,
 * `response.output_text.delta`), OpenAI's chunks (`choices[0].delta.content`) and Anthropic's
 * (`content_block_delta`) passed through. Reasoning, tool arguments and other events are not text.
 * Undefined when the body is no such stream, or none of its events held text: the body is kept as it
 * came. A stream cut at the capture's cap gives the text of its whole events.
 */
export function sseText(body: string): string | undefined {
  if (!SSE_START.test(body)) return undefined;
  const events = body.split(/\r?\n\r?\n/);
  // The last one is whole only if the stream ended with its blank line.
  if (!/\n\r?\n$/.test(body)) events.pop();
  let text = '';
  for (const event of events) {
    const data = event
      .split(/\r?\n/)
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(line[5] === ' ' ? 6 : 5))
      .join('\n');
    if (data !== '' && data !== '[DONE]') text += textOf(data) ?? '';
  }
  return text === '' ? undefined : text;
}

function textOf(data: string): string | undefined {
  if (!/^\s*[[{"]/.test(data)) return data;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return data;
  }
  if (typeof value === 'string') return value;
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const event = value as Record<string, unknown> & {
    delta?: unknown;
    choices?: { delta?: { content?: unknown } }[];
  };
  if (typeof event.type === 'string') {
    if (event.type === 'content_block_delta') {
      const delta = event.delta as { type?: unknown; text?: unknown } | undefined;
      return delta?.type === 'text_delta' && typeof delta.text === 'string' ? delta.text : undefined;
    }
    return TEXT_DELTA.test(event.type) && !event.type.includes('reasoning') && typeof event.delta === 'string' ? event.delta : undefined;
  }
  if (Array.isArray(event.choices)) {
    const content = event.choices[0]?.delta?.content;
    return typeof content === 'string' ? content : undefined;
  }
  for (const key of ['delta', 'text', 'content', 'token']) {
    if (typeof event[key] === 'string') return event[key];
  }
  return undefined;
}
