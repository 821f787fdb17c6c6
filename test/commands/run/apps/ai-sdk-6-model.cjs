// The model both AI SDK 6 apps call: AI SDK 6's own mock language model (the providers of the day
// speak a newer specification), answering "Paris." with 12 + 2 tokens, whole or streamed.
const { MockLanguageModelV3, simulateReadableStream } = require('ai/test');

const usage = { inputTokens: { total: 12, noCache: 12 }, outputTokens: { total: 2, text: 2 } };
const finishReason = { unified: 'stop', raw: 'stop' };

module.exports = new MockLanguageModelV3({
  provider: 'openai.chat',
  modelId: 'gpt-4o-mini',
  doGenerate: async () => ({ content: [{ type: 'text', text: 'Paris.' }], finishReason, usage, warnings: [] }),
  doStream: async () => ({
    stream: simulateReadableStream({
      chunks: [
        { type: 'text-start', id: 't' },
        { type: 'text-delta', id: 't', delta: 'Par' },
        { type: 'text-delta', id: 't', delta: 'is.' },
        { type: 'text-end', id: 't' },
        { type: 'finish', finishReason, usage },
      ],
    }),
  }),
});
