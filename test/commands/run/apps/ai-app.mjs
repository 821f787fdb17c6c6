// A service built on the Vercel AI SDK, with no tracing code of its own: `otel-mlflow run` must
// trace it unchanged.
import { createServer } from 'node:http';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, streamText } from 'ai';

const model = createOpenAI({ apiKey: 'sk-test-ai-app', baseURL: `${process.env.FAKE_OPENAI_URL}/v1` }).chat('gpt-4o-mini');

async function answer(req, res) {
  let body = '';
  for await (const chunk of req) body += chunk;
  const { question } = JSON.parse(body);
  let text;
  if (req.url === '/stream') {
    text = '';
    for await (const part of streamText({ model, prompt: question }).textStream) text += part;
  } else {
    text = (await generateText({ model, prompt: question })).text;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ answer: text }));
}

const server = createServer((req, res) =>
  answer(req, res).catch((error) => {
    res.writeHead(500);
    res.end(String(error));
  }),
);
process.on('SIGTERM', () => server.close());
server.listen(0, '127.0.0.1', () => console.log(`ai-app listening on http://127.0.0.1:${server.address().port}`));
