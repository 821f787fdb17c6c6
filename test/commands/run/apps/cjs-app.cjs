// The CommonJS twin of esm-app.mjs: required modules, the openai package's CommonJS build.
const { createServer } = require('node:http');
const { trace } = require('@opentelemetry/api');
const { OpenAI } = require('openai');
const { Anthropic } = require('@anthropic-ai/sdk');
const routes = require('./routes.cjs');

const openai = new OpenAI({ apiKey: 'sk-test-app', baseURL: `${process.env.FAKE_OPENAI_URL}/v1` });
const anthropic = new Anthropic({ apiKey: 'sk-ant-test-app', baseURL: process.env.FAKE_ANTHROPIC_URL });
const tracer = trace.getTracer('cjs-app');

const server = createServer((req, res) =>
  routes.answer(req, res, { openai, anthropic, tracer, exit: (code) => server.close(() => process.exit(code)) }),
);
process.on('SIGTERM', () => {
  console.log('cjs-app: SIGTERM received');
  server.close(() => process.exit(Number(process.env.EXIT_CODE_ON_SIGTERM ?? 0)));
});
process.on('SIGINT', () => {
  console.log('cjs-app: SIGINT received');
  server.close(() => process.exit(Number(process.env.EXIT_CODE_ON_SIGINT ?? 0)));
});
server.listen(0, '127.0.0.1', () => {
  console.log(`cjs-app (pid ${process.pid}) listening on http://127.0.0.1:${server.address().port}`);
  console.error('cjs-app: a line on stderr');
});
