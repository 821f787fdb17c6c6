// A Hono app on @hono/node-server as its README shows it, with no signal handling of its own: Ctrl-C
// ends it by the signal's default action.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import OpenAI from 'openai';

const openai = new OpenAI({ apiKey: 'sk-test-app', baseURL: `${process.env.FAKE_OPENAI_URL}/v1` });
const app = new Hono();

app.post('/chat/:session', async (c) => {
  const { question } = await c.req.json();
  const completion = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: question }] });
  return c.json({ answer: completion.choices[0].message.content });
});

serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => console.log(`hono-app listening on http://127.0.0.1:${info.port}`));
