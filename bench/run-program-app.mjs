// The program `npm run bench` runs with and without `otel-mlflow run`, unchanged either way: an
// openai client answered from memory (no network), timed call by call (`calls <n> <rounds>`), behind
// a node:http server that makes one such call per request (`serve`), or called once, saying how long
// after its start the answer came and its memory then (`once`).
import { createServer } from 'node:http';
import OpenAI from 'openai';

const completion = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1_767_225_600,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'Each step is a span in the trace. '.repeat(20), refusal: null },
      finish_reason: 'stop',
    },
  ],
  usage: { prompt_tokens: 520, completion_tokens: 160, total_tokens: 680 },
});
const openai = new OpenAI({
  apiKey: 'sk-bench',
  baseURL: 'http://openai.bench.invalid/v1',
  maxRetries: 0,
  fetch: async () => new Response(completion, { headers: { 'content-type': 'application/json' } }),
});
const request = (question) => ({
  model: 'gpt-4o-mini',
  temperature: 0.2,
  messages: [
    {
      role: 'system',
      content: `Answer from the context only.\n\nContext:\n${'MLflow Tracing records each step of an LLM app as a span. '.repeat(40)}`,
    },
    { role: 'user', content: question },
  ],
});

if (process.argv[2] === 'once') {
  await openai.chat.completions.create(request('How does MLflow show the steps of my agent?'));
  console.log(JSON.stringify({ msToAnswer: performance.now(), rssMb: process.memoryUsage.rss() / 2 ** 20 }));
} else if (process.argv[2] === 'calls') {
  const [calls, rounds] = process.argv.slice(3).map(Number);
  for (let i = 0; i < 200; i++) await openai.chat.completions.create(request('warm-up'));
  const samples = [];
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    for (let i = 0; i < calls; i++) await openai.chat.completions.create(request('How does MLflow show the steps of my agent?'));
    samples.push(((performance.now() - started) / calls) * 1000);
  }
  samples.sort((a, b) => a - b);
  console.log(JSON.stringify({ microsecondsPerCall: samples[Math.floor(samples.length / 2)] }));
} else {
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const answer = await openai.chat.completions.create(request(JSON.parse(body).question));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ answer: answer.choices[0].message.content }));
  });
  process.on('SIGTERM', () => server.close());
  server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
}
