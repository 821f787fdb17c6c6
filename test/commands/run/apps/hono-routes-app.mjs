// A Hono app on @hono/node-server as its authors wrote it: a middleware for every path, a route with a
// parameter, and a sub-app mounted under /api that calls Claude, streamed.
import Anthropic from '@anthropic-ai/sdk';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import OpenAI from 'openai';

const openai = new OpenAI({ apiKey: 'sk-test-app', baseURL: `${process.env.FAKE_OPENAI_URL}/v1` });
const anthropic = new Anthropic({ apiKey: 'sk-ant-test-app', baseURL: process.env.FAKE_ANTHROPIC_URL });
const app = new Hono();

app.use('*', async (c, next) => {
  await next();
  c.header('x-served-by', 'hono-routes-app');
});

app.post('/users/:id', async (c) => {
  const { question } = await c.req.json();
  const completion = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: question }] });
  return c.json({ user: c.req.param('id'), answer: completion.choices[0].message.content });
});

const api = new Hono();
api.post('/users/:id', async (c) => {
  const { question } = await c.req.json();
  const stream = anthropic.messages.stream({
    model: 'claude-sonnet-4-5',
    max_tokens: 256,
    messages: [{ role: 'user', content: question }],
  });
  const message = await stream.finalMessage();
  return c.json({ user: c.req.param('id'), answer: message.content[0].text });
});
app.route('/api', api);

const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
  console.log(`hono-routes-app listening on http://127.0.0.1:${info.port}`),
);
process.on('SIGTERM', () => server.close());
