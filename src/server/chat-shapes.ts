/**
 * MLflow previews a trace from its root span: chat-shaped inputs show the user's text and
 * OpenAI-shaped outputs the assistant's, where any other shape shows raw JSON.
 */
export function userMessageInputs(content: string, extra: Record<string, unknown>): Record<string, unknown> {
  return { messages: [{ role: 'user', content }], ...extra };
}

export function assistantMessageOutputs(
  content: string,
  extra: Record<string, unknown>,
  /** `null` for an answer cut short, as OpenAI reports a stream that has not finished. */
  finishReason: 'stop' | 'length' | null = 'stop',
): Record<string, unknown> {
  return { choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finishReason }], ...extra };
}
