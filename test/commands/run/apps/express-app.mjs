// An Express 5 app as its authors wrote it: JSON bodies parsed by express.json(), a route with a
// parameter on the app, and a router mounted under /api that calls Claude's beta API through a
// client derived with withOptions().
import Anthropic from '@anthropic-ai/sdk';
import express from 'express';
import OpenAI from 'openai';

const openai = new OpenAI({ apiKey: 'sk-test-app', baseURL: `${process.env.FAKE_OPENAI_URL}/v1` });
const anthropic = new Anthropic({ apiKey: 'sk-ant-test-app', baseURL: process.env.FAKE_ANTHROPIC_URL });
const app = express();
app.use(express.json());

app.post('/users/:id', async (req, res) => {
  const completion = await openai.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: req.body.question }],
  });
  res.json({ user: req.params.id, answer: completion.choices[0].message.content });
});

const api = express.Router();
api.post('/users/:id', async (req, res) => {
  const message = await anthropic.withOptions({ maxRetries: 1 }).beta.messages.create({
    model: 'claude-sonnet-4-5',
    max_tokens: 256,
    messages: [{ role: 'user', content: req.body.question }],
  });
  res.json({ user: req.params.id, answer: message.content[0].text });
});
app.use('/api', api);

const server = app.listen(0, '127.0.0.1', () => console.log(`express-app listening on http://127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => server.close());
