// A service built on AI SDK 6 (`ai` 6), imported as an ES module, which switches no telemetry on
// itself: `otel-mlflow run` must trace it unchanged. A call that switches it off stays untraced.
import { createServer } from 'node:http';
import { generateText, streamText, ToolLoopAgent } from 'ai';
import model from './ai-sdk-6-model.cjs';

const agent = new ToolLoopAgent({ model, instructions: 'Answer in one word.' });

async function answer(req, res) {
  let body = '';
  for await (const chunk of req) body += chunk;
  const { question: prompt } = JSON.parse(body);
  let text;
  if (req.url === '/stream') {
    text = '';
    for await (const part of streamText({ model, prompt }).textStream) text += part;
  } else if (req.url === '/agent') {
    text = (await agent.generate({ prompt })).text;
  } else if (req.url === '/untraced') {
    text = (await generateText({ model, prompt, experimental_telemetry: { isEnabled: false } })).text;
  } else {
    text = (await generateText({ model, prompt })).text;
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
server.listen(0, '127.0.0.1', () => console.log(`ai-sdk-6-app listening on http://127.0.0.1:${server.address().port}`));
