// A Koa 3 app as its authors wrote it, with @koa/router: a route with a parameter, and a router nested
// under /api, behind a middleware of its own, that calls Claude, streamed. Koa parses no body by itself.
import Router from '@koa/router';
import Anthropic from '@anthropic-ai/sdk';
import Koa from 'koa';
import OpenAI from 'openai';

const openai = new OpenAI({ apiKey: 'sk-test-app', baseURL: `${process.env.FAKE_OPENAI_URL}/v1` });
const anthropic = new Anthropic({ apiKey: 'sk-ant-test-app', baseURL: process.env.FAKE_ANTHROPIC_URL });

async function question(ctx) {
  let body = '';
  for await (const chunk of ctx.req) body += chunk;
  return JSON.parse(body).question;
}

const router = new Router();
router.post('/users/:id', async (ctx) => {
  const completion = await openai.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: await question(ctx) }],
  });
  ctx.body = { user: ctx.params.id, answer: completion.choices[0].message.content };
});

const api = new Router();
api.use(async (ctx, next) => {
  await new Promise((resolve) => setImmediate(resolve));
  ctx.set('x-api', '1');
  await next();
});
api.post('/users/:id', async (ctx) => {
  const stream = anthropic.messages.stream({
    model: 'claude-sonnet-4-5',
    max_tokens: 256,
    messages: [{ role: 'user', content: await question(ctx) }],
  });
  const message = await stream.finalMessage();
  ctx.body = { user: ctx.params.id, answer: message.content[0].text };
});
router.use('/api', api.routes());

const app = new Koa();
app.use(router.routes()).use(router.allowedMethods());
const server = app.listen(0, '127.0.0.1', () => console.log(`koa-app listening on http://127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => server.close());
