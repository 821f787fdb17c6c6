// A program with credentials the tool has no setting for, in its environment: a provider's key
// (GROQ_API_KEY), which the provider's refusal echoes, and a database URL's password, which an error
// of its own quotes. Both end up in the text of its spans.
import { trace } from '@opentelemetry/api';
import OpenAI from 'openai';

const groq = new OpenAI({ apiKey: process.env.GROQ_API_KEY, baseURL: `${process.env.FAKE_OPENAI_URL}/v1`, maxRetries: 0 });

await trace.getTracer('keys-app').startActiveSpan('answer', async (span) => {
  try {
    await groq.chat.completions.create({ model: 'llama-3.3-70b-versatile', messages: [{ role: 'user', content: 'echo my key' }] });
  } catch (error) {
    console.log(`keys-app: the provider answered ${error.status}`);
  }
  span.recordException(new Error(`could not load the history from ${process.env.DATABASE_URL}`));
  span.end();
});
