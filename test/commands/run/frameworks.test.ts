import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startListening } from '../../cli/serve-process.ts';
import { startFakeMlflow, type FakeMlflow } from '../../fakes/fake-mlflow.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../../fakes/fake-anthropic.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../../fakes/fake-openai.ts';
import type { StoredTrace } from '../../fakes/trace-store.ts';
import { copyApps, installCopy } from './app-project.ts';

const APPS = fileURLToPath(new URL('./apps/', import.meta.url));

let mlflow: FakeMlflow;
let openai: FakeOpenAI;
let anthropic: FakeAnthropic;
let root: string;
let runs = 0;
before(async () => {
  [mlflow, openai, anthropic] = await Promise.all([startFakeMlflow({ version: '3.8.1' }), startFakeOpenAI(), startFakeAnthropic()]);
  root = await mkdtemp(join(tmpdir(), 'otel-mlflow-run-frameworks-'));
});
after(() => Promise.all([mlflow.close(), openai.close(), anthropic.close(), rm(root, { recursive: true, force: true })]));

/** One request to the app: a JSON question POSTed to its path, unless it says otherwise. */
interface Ask {
  path: string;
  question: string;
  method?: string;
  status?: number;
}

/** The app (of `dir`) run unchanged under `otel-mlflow run` (on the pinned Node unless told), asked each question on its path, then stopped. */
async function runAndAsk(
  app: string,
  questions: (Ask | [path: string, question: string])[],
  node = process.execPath,
  dir = APPS,
): Promise<string> {
  const running = await startListening(
    ['run', '--', node, join(dir, app)],
    {
      MLFLOW_TRACKING_URI: mlflow.url,
      MLFLOW_EXPERIMENT_NAME: 'framework-apps',
      // A store of each run's own: two apps of one name run from different projects.
      OTEL_MLFLOW_STORE_DIR: join(root, `store-${++runs}`),
      FAKE_OPENAI_URL: openai.url,
      FAKE_ANTHROPIC_URL: anthropic.url,
    },
    /listening on (http:\/\/\S+)/,
  );
  for (const ask of questions) {
    const { path, question, method = 'POST', status = 200 } = Array.isArray(ask) ? { path: ask[0], question: ask[1] } : ask;
    const response = await fetch(`${running.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: method === 'GET' ? null : JSON.stringify({ question }),
    });
    assert.equal(response.status, status, await response.clone().text());
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

/**
 * AI SDK 6 makes spans only for calls that switch telemetry on: under `run` the program's `ai` is the
 * package with every call's switch on, unless the call itself says otherwise.
 */
describe('otel-mlflow run: an AI SDK 6 app, unchanged', () => {
  let dir: string;
  before(async () => {
    dir = join(root, 'ai-sdk-6');
    await copyApps(dir, ['ai-sdk-6-app.mjs', 'ai-sdk-6-app.cjs', 'ai-sdk-6-model.cjs', 'answer-server.cjs']);
    await installCopy(join(dir, 'node_modules'), 'ai-v6', 'ai');
  });

  /** The AI SDK call under the request, and its model call under that, with the model's usage counted once. */
  function assertTraced(question: string, operation: string): void {
    const trace = traceOf(question);
    const [call] = childrenOf(trace, rootOf(trace).spanId);
    assert.equal(call?.name, operation);
    assert.equal(typeOf(call!), 'CHAIN');
    const models = childrenOf(trace, call!.spanId).filter((span) => typeOf(span) === 'CHAT_MODEL');
    assert.equal(models.length, 1, 'one model call');
    assert.match(JSON.stringify(models[0]!.attributes['mlflow.spanInputs']), new RegExp(question));
    assert.equal(tokenUsage(trace)?.total_tokens, 14);
  }

  it('traces an ES module app’s generateText, streamText and agent, and leaves a call that switched telemetry off untraced', async () => {
    const stderr = await runAndAsk(
      'ai-sdk-6-app.mjs',
      [
        ['/text', 'ai 6 generateText question'],
        ['/stream', 'ai 6 streamText question'],
        ['/agent', 'ai 6 agent question'],
        ['/untraced', 'ai 6 untraced question'],
      ],
      process.execPath,
      dir,
    );
    assert.match(stderr, /^traces: 4 delivered\n$/m);
    assertTraced('ai 6 generateText question', 'ai.generateText');
    assertTraced('ai 6 streamText question', 'ai.streamText');
    assertTraced('ai 6 agent question', 'ai.generateText');
    assert.deepEqual(
      traceOf('ai 6 untraced question').spans.map((span) => span.name),
      ['POST /untraced'],
    );
  });

  it('traces it on the system Node 20, whose module hooks run in a thread of their own', async () => {
    await runAndAsk('ai-sdk-6-app.mjs', [['/text', 'ai 6 on Node 20 question']], '/usr/bin/node', dir);
    assertTraced('ai 6 on Node 20 question', 'ai.generateText');
  });

  it('traces a CommonJS app that requires it', async () => {
    await runAndAsk('ai-sdk-6-app.cjs', [['/text', 'ai 6 required question']], process.execPath, dir);
    assertTraced('ai 6 required question', 'ai.generateText');
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

/** Both apps route POST /users/:id to openai, and POST /api/users/:id (a mounted router, a prefixed plugin) to Claude. */
/** A project of its own for the app, whose `fastify` is Fastify 4 (which publishes no route of its own). */
async function fastify4Project(app: string): Promise<string> {
  const dir = join(root, 'fastify-4');
  const modules = join(dir, 'node_modules');
  await copyApps(dir, [app]);
  await installCopy(modules, 'fastify-v4', 'fastify');
  await installCopy(modules, 'openai');
  await installCopy(modules, '@anthropic-ai/sdk');
  return dir;
}

for (const { framework, app, tag, node, prefixed, project } of [
  { framework: 'an Express 5 app', app: 'express-app.mjs', tag: 'express-app', node: process.execPath, prefixed: 'a mounted router’s' },
  {
    framework: 'a Fastify 5 app on the system Node 20',
    app: 'fastify-app.mjs',
    tag: 'fastify-app',
    node: '/usr/bin/node',
    prefixed: 'a plugin’s',
  },
  {
    framework: 'a Hono app on @hono/node-server',
    app: 'hono-routes-app.mjs',
    tag: 'hono-routes-app',
    node: process.execPath,
    prefixed: 'a mounted sub-app’s',
  },
  { framework: 'a Koa 3 app with @koa/router', app: 'koa-app.mjs', tag: 'koa-app', node: process.execPath, prefixed: 'a nested router’s' },
  {
    framework: 'the same app on Fastify 4',
    app: 'fastify-app.mjs',
    tag: 'fastify-4-app',
    node: process.execPath,
    prefixed: 'a plugin’s',
    project: fastify4Project,
  },
]) {
  describe(`otel-mlflow run: ${framework}, unchanged`, () => {
    let stderr: string;
    before(async () => {
      stderr = await runAndAsk(
        app,
        [
          ['/users/7', `${tag} route question`],
          ['/api/users/8', `${tag} prefixed question`],
          { path: '/nowhere', question: `${tag} 404 question`, status: 404 },
        ],
        node,
        project ? await project(app) : APPS,
      );
    });

    it(`names each trace by its route template, ${prefixed} prefix included, the LLM call nested under it`, () => {
      assert.match(stderr, /^traces: 3 delivered\n$/m);
      for (const [question, route, call] of [
        [`${tag} route question`, '/users/:id', 'chat gpt-4o-mini'],
        [`${tag} prefixed question`, '/api/users/:id', 'chat claude-sonnet-4-5'],
      ] as const) {
        const trace = traceOf(question);
        const request = rootOf(trace);
        assert.equal(request.name, `POST ${route}`);
        assert.equal(request.attributes['http.route'], route);
        assert.equal(typeOf(request), 'CHAIN');
        // The tool's span, not one the SDK makes itself (MLflow would type that CHAT_MODEL too).
        assert.deepEqual(
          childrenOf(trace, request.spanId).map((span) => [span.name, typeOf(span)]),
          [[call, 'CHAT_MODEL']],
        );
        assert.equal(trace.info.state, 'OK');
        assert.equal(trace.spans.length, 2);
      }
    });

    it('leaves a request no route matched (the framework’s 404) named by its path, its status unset and tagged refused', () => {
      const request = rootOf(traceOf(`${tag} 404 question`));
      assert.equal(request.name, 'POST /nowhere');
      assert.equal(request.attributes['http.route'], undefined);
      assert.equal(request.attributes['http.response.status_code'], 404);
      assert.equal(request.status.code, 'STATUS_CODE_UNSET');
      // MLflow 3.12 and on make it the trace's tag `refused`.
      assert.equal(request.attributes['mlflow.traceTag.refused'], 'HTTP 404');
    });
  });
}

for (const [nodeName, node, workersTraced] of [
  ['the system Node 20', '/usr/bin/node', false],
  ['the pinned Node', process.execPath, true],
] as const) {
  describe(`otel-mlflow run: a program that calls the LLM in a worker thread, on ${nodeName}`, () => {
    const question = `worker question on ${nodeName}`;
    let stderr: string;
    before(async () => {
      stderr = await runAndAsk('worker-app.mjs', [['/ask', question]], node);
    });

    if (workersTraced) {
      it('traces the worker’s call too, as its own trace beside the request’s', () => {
        assert.match(stderr, /^traces: 2 delivered\n$/m);
        const asked = mlflow.store.traces().filter((trace) => trace.info.request_preview?.includes(question));
        assert.deepEqual(asked.map((trace) => rootOf(trace).name).sort(), ['POST /ask', 'chat gpt-4o-mini']);
        const call = asked.find((trace) => rootOf(trace).name === 'chat gpt-4o-mini')!;
        assert.equal(call.spans.length, 1);
        assert.equal(typeOf(rootOf(call)), 'CHAT_MODEL');
        assert.equal(tokenUsage(call)?.total_tokens, 18);
      });
    } else {
      it('leaves the worker alone (no in-thread module hooks before Node 22.15) and still traces the request', () => {
        assert.match(stderr, /^traces: 1 delivered\n$/m);
        const asked = mlflow.store.traces().filter((trace) => trace.info.request_preview?.includes(question));
        assert.deepEqual(
          asked.map((trace) => rootOf(trace).name),
          ['POST /ask'],
        );
      });
    }
  });
}

describe('otel-mlflow run: a program that loads both builds of openai, unchanged', () => {
  before(() =>
    runAndAsk('mixed-formats-app.mjs', [
      ['/imported', 'through its import'],
      ['/required', 'through a required helper'],
    ]),
  );

  for (const [how, question] of [
    ['its own import (the ES module build)', 'through its import'],
    ['a CommonJS helper it requires while answering (the CommonJS build)', 'through a required helper'],
  ] as const) {
    it(`traces the LLM call made through ${how} under the request`, () => {
      const trace = traceOf(question);
      const llm = childrenOf(trace, rootOf(trace).spanId).filter((span) => typeOf(span) === 'CHAT_MODEL');
      assert.deepEqual(
        llm.map((span) => span.name),
        ['chat gpt-4o-mini'],
      );
      assert.equal(tokenUsage(trace)?.total_tokens, 18);
    });
  }
});
