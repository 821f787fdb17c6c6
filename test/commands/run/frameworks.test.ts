import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startListening } from '../../cli/serve-process.ts';
import { startFakeMlflow, type FakeMlflow } from '../../fakes/fake-mlflow.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../../fakes/fake-openai.ts';
import type { StoredTrace } from '../../fakes/trace-store.ts';

const APPS = fileURLToPath(new URL('./apps/', import.meta.url));

let mlflow: FakeMlflow;
let openai: FakeOpenAI;
let root: string;
before(async () => {
  [mlflow, openai] = await Promise.all([startFakeMlflow({ version: '3.8.1' }), startFakeOpenAI()]);
  root = await mkdtemp(join(tmpdir(), 'otel-mlflow-run-frameworks-'));
});
after(() => Promise.all([mlflow.close(), openai.close(), rm(root, { recursive: true, force: true })]));

/** The app run unchanged under `otel-mlflow run`, asked each question on its path, then stopped. */
async function runAndAsk(app: string, questions: [path: string, question: string][]): Promise<string> {
  const running = await startListening(
    ['run', '--', process.execPath, join(APPS, app)],
    {
      MLFLOW_TRACKING_URI: mlflow.url,
      MLFLOW_EXPERIMENT_NAME: 'framework-apps',
      OTEL_MLFLOW_STORE_DIR: join(root, app),
      FAKE_OPENAI_URL: openai.url,
    },
    /listening on (http:\/\/\S+)/,
  );
  for (const [path, question] of questions) {
    const response = await fetch(`${running.url}${path}`, { method: 'POST', body: JSON.stringify({ question }) });
    assert.equal(response.status, 200, await response.clone().text());
    await response.text();
  }
  const stopped = await running.stop('SIGTERM');
  assert.equal(stopped.code, 0, stopped.stderr);
  return stopped.stderr;
}

function traceOf(question: string): StoredTrace {
  const found = mlflow.store.traces().find((trace) => trace.info.request_preview?.includes(question));
  assert.ok(found, `a trace of "${question}" is in MLflow`);
  return found;
}

const rootOf = (trace: StoredTrace) => trace.spans.find((span) => span.parentSpanId === null)!;
const childrenOf = (trace: StoredTrace, spanId: string) => trace.spans.filter((span) => span.parentSpanId === spanId);
const typeOf = (span: StoredTrace['spans'][number]) => span.attributes['mlflow.spanType'];
const tokenUsage = (trace: StoredTrace) => JSON.parse(trace.info.trace_metadata?.['mlflow.trace.tokenUsage'] ?? 'null');

describe('otel-mlflow run: a Vercel AI SDK app, unchanged', () => {
  let stderr: string;
  before(async () => {
    stderr = await runAndAsk('ai-app.mjs', [
      ['/text', 'ai generateText question'],
      ['/stream', 'ai streamText question'],
    ]);
  });

  it('makes one trace per request, the AI SDK call a CHAIN under the request and its model call a CHAT_MODEL under that', () => {
    assert.match(stderr, /^traces: 2 delivered\n$/m);
    for (const [question, operation] of [
      ['ai generateText question', 'ai.generateText'],
      ['ai streamText question', 'ai.streamText'],
    ] as const) {
      const trace = traceOf(question);
      const request = rootOf(trace);
      assert.match(request.name, /^POST \/(text|stream)$/);
      const [call] = childrenOf(trace, request.spanId);
      assert.equal(call?.name, operation);
      assert.equal(typeOf(call!), 'CHAIN');
      const models = childrenOf(trace, call!.spanId).filter((span) => typeOf(span) === 'CHAT_MODEL');
      assert.equal(models.length, 1, 'one model call');
      assert.match(JSON.stringify(models[0]!.attributes['mlflow.spanInputs']), new RegExp(question));
      assert.equal(trace.info.state, 'OK');
      assert.equal(tokenUsage(trace)?.total_tokens, 18, 'the model call’s usage, counted once');
    }
  });
});

describe('otel-mlflow run: a LangChain.js app, unchanged', () => {
  let stderr: string;
  before(async () => {
    stderr = await runAndAsk('langchain-app.mjs', [['/chain', 'langchain chain question']]);
  });

  it('nests the chain, its prompt, chat model and parser under the request, the chat model’s usage counted once', () => {
    assert.match(stderr, /^traces: 1 delivered\n$/m);
    const trace = traceOf('langchain chain question');
    const request = rootOf(trace);
    assert.equal(request.name, 'POST /chain');
    const [chain] = childrenOf(trace, request.spanId);
    assert.equal(chain?.name, 'RunnableSequence');
    assert.equal(typeOf(chain!), 'CHAIN');
    const steps = childrenOf(trace, chain!.spanId);
    assert.deepEqual(
      steps.map((span) => typeOf(span)).sort(),
      ['CHAIN', 'CHAT_MODEL', 'PARSER'],
      'prompt template, chat model and output parser',
    );
    const chat = steps.find((span) => typeOf(span) === 'CHAT_MODEL')!;
    assert.equal(chat.name, 'ChatOpenAI');
    assert.deepEqual(childrenOf(trace, chat.spanId), [], 'no second span of the OpenAI client LangChain calls');
    assert.equal(trace.spans.filter((span) => typeOf(span) === 'CHAT_MODEL').length, 1);
    assert.equal(tokenUsage(trace)?.total_tokens, 18);
    assert.match(trace.info.response_preview ?? '', /\S/);
  });
});
