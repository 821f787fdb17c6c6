// A Fastify 5 app as its authors wrote it: a route with a parameter on the app, and a plugin
// registered under the /api prefix that calls Claude, streamed.
import Anthropic from '@anthropic-ai/sdk';
import Fastify from 'fastify';
import OpenAI from 'openai';

const openai = new OpenAI({ apiKey: 'sk-test-app', baseURL: `${process.env.FAKE_OPENAI_URL}/v1` });
const anthropic = new Anthropic({ apiKey: 'sk-ant-test-app', baseURL: process.env.FAKE_ANTHROPIC_URL });
const app = Fastify();

app.post('/users/:id', async (request) => {
  const completion = await openai.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: request.body.question }],
  });
  return { user: request.params.id, answer: completion.choices[0].message.content };
});

app.register(
  async (api) => {
    api.post('/users/:id', async (request) => {
      const stream = anthropic.messages.stream({
        model: 'claude-sonnet-4-5',
        max_tokens: 256,
        messages: [{ role: 'user', content: request.body.question }],
      });
      const message = await stream.finalMessage();
      return { user: request.params.id, answer: message.content[0].text };
    });
  },
  { prefix: '/api' },
);

const address = await app.listen({ port: 0, host: '127.0.0.1' });
console.log(`fastify-app listening on ${address}`);
process.on('SIGTERM', () => app.close());
