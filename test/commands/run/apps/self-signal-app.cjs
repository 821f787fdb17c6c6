// A program that ends itself by a signal once its work is done, as a wrapper passes on its child's
// death by one (foreground-child, behind c8, nyc and tap, does): one LLM call, then, with nothing
// left to run, SIGNAL (a name or a number) raised at itself.
const OpenAI = require('openai');

const openai = new OpenAI({ apiKey: 'sk-test-app', baseURL: `${process.env.FAKE_OPENAI_URL}/v1` });
const signal = /^\d+$/.test(process.env.SIGNAL) ? Number(process.env.SIGNAL) : process.env.SIGNAL;

openai.chat.completions
  .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `raises ${signal} at itself` }] })
  // Long enough for the call's span to be handed over already: nothing is pending as the signal goes.
  .then(() => setTimeout(() => process.kill(process.pid, signal), 300));
