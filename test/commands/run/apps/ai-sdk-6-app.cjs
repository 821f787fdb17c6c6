// The AI SDK 6 service as CommonJS (what TypeScript compiled to CommonJS gives): `require('ai')`.
const { createServer } = require('node:http');
const { generateText } = require('ai');
const model = require('./ai-sdk-6-model.cjs');

const server = createServer(async (req, res) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  const { text } = await generateText({ model, prompt: JSON.parse(body).question });
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ answer: text }));
});
process.on('SIGTERM', () => server.close());
server.listen(0, '127.0.0.1', () => console.log(`ai-sdk-6-app (CommonJS) listening on http://127.0.0.1:${server.address().port}`));
