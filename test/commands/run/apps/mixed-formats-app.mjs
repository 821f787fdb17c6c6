// An ES module program whose LLM calls go through both builds of the openai package: its own
// `import`, and a CommonJS helper's `require` (as a CommonJS library the program uses would), which
// it loads only when a request needs it and calls at once.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import OpenAI from 'openai';

const openai = new OpenAI({ apiKey: 'sk-test-app', baseURL: `${process.env.FAKE_OPENAI_URL}/v1` });
const require = createRequire(import.meta.url);

const server = createServer(async (req, res) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  const { question } = JSON.parse(body);
  const messages = [{ role: 'user', content: question }];
  const answer =
    req.url === '/required'
      ? await require('./required-llm.cjs').askRequired(messages)
      : (await openai.chat.completions.create({ model: 'gpt-4o-mini', messages })).choices[0].message.content;
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ answer }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
server.listen(0, '127.0.0.1', () => console.log(`mixed-formats-app listening on http://127.0.0.1:${server.address().port}`));
