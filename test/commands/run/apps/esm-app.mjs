// A Node service as its authors wrote it, with no tracing code of its own but one span of its own
// through @opentelemetry/api: `otel-mlflow run` must trace it unchanged.
import { createServer } from 'node:http';
import { trace } from '@opentelemetry/api';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import routes from './routes.cjs';

const openai = new OpenAI({ apiKey: 'sk-test-app', baseURL: `${process.env.FAKE_OPENAI_URL}/v1` });
const anthropic = new Anthropic({ apiKey: 'sk-ant-test-app', baseURL: process.env.FAKE_ANTHROPIC_URL });
const tracer = trace.getTracer('esm-app');

const server = createServer((req, res) =>
  routes.answer(req, res, { openai, anthropic, tracer, exit: (code) => server.close(() => process.exit(code)) }),
);
// As many services do, a second request to stop means "now": it cuts the first one's clean-up short.
let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    if (stopping) {
      console.log(`esm-app: ${signal} again, exiting at once`);
      process.exit(1);
    }
    stopping = true;
    console.log(`esm-app: ${signal} received`);
    // SHUTDOWN_MS: as long as a service takes to finish what it was doing.
    const exit = () => process.exit(Number(process.env[`EXIT_CODE_ON_${signal}`] ?? 0));
    server.close(() => setTimeout(exit, Number(process.env.SHUTDOWN_MS ?? 0)));
  });
}
server.listen(0, '127.0.0.1', () => {
  console.log(`esm-app (pid ${process.pid}) listening on http://127.0.0.1:${server.address().port}`);
  console.error('esm-app: a line on stderr');
});
