// The worker thread of worker-app.mjs: one chat completion, its answer posted back, then it ends.
import { parentPort, workerData } from 'node:worker_threads';
import OpenAI from 'openai';

const openai = new OpenAI({ apiKey: 'sk-test-app', baseURL: `${process.env.FAKE_OPENAI_URL}/v1` });
const completion = await openai.chat.completions.create({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: workerData.question }],
});
parentPort.postMessage(completion.choices[0].message.content);
