// A service built on the Vercel AI SDK, with no tracing code of its own: `otel-mlflow run` must
// trace it unchanged.
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, streamText } from 'ai';
import serveAnswers from './answer-server.cjs';

const model = createOpenAI({ apiKey: 'sk-test-ai-app', baseURL: `${process.env.FAKE_OPENAI_URL}/v1` }).chat('gpt-4o-mini');

serveAnswers('ai-app', async (question, path) => {
  if (path !== '/stream') return (await generateText({ model, prompt: question })).text;
  let text = '';
  for await (const part of streamText({ model, prompt: question }).textStream) text += part;
  return text;
});
