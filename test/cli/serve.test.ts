import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { HealthInfo } from '../../src/agent/api-schemas.ts';
import { startFakeMlflow, type FakeMlflow } from '../fakes/fake-mlflow.ts';
import { startFakeOpenAI } from '../fakes/fake-openai.ts';
import type { StoredSpan, StoredTrace } from '../fakes/trace-store.ts';
import { closedPortUrl } from './closed-port.ts';
import { startServe } from './serve-process.ts';
import { runCli } from './run-cli.ts';

const EXPERIMENT = 'serve-e2e';

/** The fields of an answer every route's test reads; every request here is traced, so `trace_id` is set. */
interface AnswerBody {
  answer: string;
  trace_id: string;
  usage: { total_tokens: number };
}

/** The old demo's four curl commands, as bodies. */
async function demoRequests(url: string) {
  const post = async <Body extends AnswerBody>(path: string, body: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, traceHeader: response.headers.get('x-trace-id'), body: (await response.json()) as Body };
  };
  const health = await fetch(`${url}/`);
  return {
    health: { status: health.status, body: (await health.json()) as HealthInfo },
    chat: await post<AnswerBody>('/chat', { query: 'What is OpenTelemetry?', session_id: 'sess-42', user_id: 'user-7' }),
    rag: await post<AnswerBody & { sources: unknown[] }>('/rag/v1/answer', { query: 'Explain MLflow tracing' }),
    agent: await post<AnswerBody & { finished: boolean }>('/agent/task', { task: 'Analyze distributed tracing benefits' }),
  };
}

/** name → children names, from the stored spans' parent links. */
function tree(trace: StoredTrace): string[] {
  const byParent = new Map<string | null, StoredSpan[]>();
  for (const span of trace.spans) byParent.set(span.parentSpanId, [...(byParent.get(span.parentSpanId) ?? []), span]);
  const lines: string[] = [];
  const walk = (span: StoredSpan, depth: number) => {
    lines.push(`${'  '.repeat(depth)}${span.name} [${span.attributes['mlflow.spanType'] ?? '-'}]`);
    for (const child of (byParent.get(span.spanId) ?? []).sort((a, b) => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1)))
      walk(child, depth + 1);
  };
  for (const root of byParent.get(null) ?? []) walk(root, 0);
  return lines;
}

function usageOf(value: unknown): { input_tokens: number; output_tokens: number; total_tokens: number } | undefined {
  if (value === undefined) return undefined;
  return (typeof value === 'string' ? JSON.parse(value) : value) as { input_tokens: number; output_tokens: number; total_tokens: number };
}

function assertTokenTotalSummedOnce(trace: StoredTrace) {
  const perSpan = trace.spans.map((s) => usageOf(s.attributes['mlflow.chat.tokenUsage'])).filter((u) => u !== undefined);
  assert.ok(perSpan.length > 0, 'the CHAT_MODEL spans carry usage');
  const expected = perSpan.reduce((sum, u) => sum + u.total_tokens, 0);
  assert.equal(JSON.parse(trace.info.trace_metadata!['mlflow.trace.tokenUsage']!).total_tokens, expected);
  for (const span of trace.spans) {
    if (span.attributes['mlflow.chat.tokenUsage'] !== undefined)
      assert.equal(span.attributes['mlflow.spanType'], 'CHAT_MODEL', `${span.name} carries usage`);
  }
}

async function runDemo(server: FakeMlflow, extraEnv: Record<string, string> = {}) {
  const serve = await startServe([], { MLFLOW_TRACKING_URI: server.url, MLFLOW_EXPERIMENT_NAME_OTEL: EXPERIMENT, ...extraEnv });
  try {
    const results = await demoRequests(serve.url);
    return { results, stopped: await serve.stop() };
  } catch (error) {
    await serve.stop();
    throw error;
  }
}

describe('otel-mlflow serve', () => {
  for (const backend of ['sql', 'file'] as const) {
    it(`answers the old demo's curl commands, one trace per request with the expected tree (${backend === 'sql' ? 'OTLP' : 'REST'} path)`, async () => {
      const server = await startFakeMlflow({ version: '3.14.1.dev0', backend });
      try {
        const { results, stopped } = await runDemo(server);
        assert.equal(stopped.code, 0, stopped.stdout + stopped.stderr);
        assert.match(stopped.stdout, /offline/);
        assert.match(
          stopped.stdout,
          /^traces go to MLflow at http:\/\/127\.0\.0\.1:\d+, experiment 'serve-e2e' \(id \d+\), over (OTLP|MLflow REST) \(experiment created now\)$/m,
        );
        assert.match(
          stopped.stdout,
          /^LLM: offline \(built-in model, no network\): no LLM configured \(OPENAI_API_KEY, ANTHROPIC_API_KEY or --provider\)$/m,
        );
        assert.doesNotMatch(stopped.stdout, /^note: (created experiment|no LLM configured)/m, 'said once, on its line');
        assert.match(stopped.stdout, /^traces: 3 delivered$/m);

        assert.equal(results.health.status, 200);
        assert.equal(results.health.body.llm.provider, 'offline');
        for (const name of ['chat', 'rag', 'agent'] as const) {
          const result = results[name];
          assert.equal(result.status, 200, JSON.stringify(result.body));
          assert.match(result.body.trace_id, /^tr-[0-9a-f]{32}$/);
          assert.equal(result.traceHeader, result.body.trace_id);
          assert.ok(result.body.answer.length > 0);
        }

        const experimentId = [...server.store.experiments.values()].find((e) => e.name === EXPERIMENT)!.experimentId;
        const traces = server.store.traces(experimentId);
        assert.equal(traces.length, 3, 'health is not traced; one trace per request');
        for (const trace of traces) assert.equal(trace.loggedVia, backend === 'sql' ? 'otlp' : 'rest');
        const byId = (id: string) => traces.find((t) => t.info.trace_id === id)!;

        const chat = byId(results.chat.body.trace_id);
        assert.deepEqual(tree(chat), ['POST /chat [CHAIN]', '  chat otel-mlflow-offline [CHAT_MODEL]']);
        assert.equal(chat.info.request_preview, 'What is OpenTelemetry?');
        assert.equal(chat.info.response_preview, results.chat.body.answer.slice(0, 1000));
        assert.equal(chat.info.trace_metadata!['mlflow.trace.session'], 'sess-42');
        assert.equal(chat.info.trace_metadata!['mlflow.trace.user'], 'user-7');
        assertTokenTotalSummedOnce(chat);
        assert.equal(JSON.parse(chat.info.trace_metadata!['mlflow.trace.tokenUsage']!).total_tokens, results.chat.body.usage.total_tokens);

        const rag = byId(results.rag.body.trace_id);
        assert.deepEqual(tree(rag), [
          'POST /rag/v1/answer [CHAIN]',
          '  retrieve_documents [RETRIEVER]',
          '  generate_context [CHAIN]',
          '  generate_answer [CHAIN]',
          '    chat otel-mlflow-offline [CHAT_MODEL]',
        ]);
        // The steps reach MLflow in execution order: nanosecond start times, strictly increasing.
        const steps = ['POST /rag/v1/answer', 'retrieve_documents', 'generate_context', 'generate_answer', 'chat otel-mlflow-offline'];
        const starts = steps.map((name) => rag.spans.find((s) => s.name === name)!.startTimeUnixNano);
        for (let i = 1; i < starts.length; i++) assert.ok(starts[i - 1]! < starts[i]!, `${steps[i - 1]} starts before ${steps[i]}`);
        assert.ok(
          starts.every((start) => start % 1_000_000n !== 0n),
          `sub-millisecond start times: ${starts.join(', ')}`,
        );
        for (const span of rag.spans) assert.ok(span.endTimeUnixNano >= span.startTimeUnixNano, `${span.name} ends after it starts`);
        const retriever = rag.spans.find((s) => s.name === 'retrieve_documents')!;
        const documents = (retriever.attributes['mlflow.spanOutputs'] as { documents: { page_content: string }[] }).documents;
        assert.equal(documents.length, 3);
        assert.ok(documents.every((d) => d.page_content.length > 0));
        assert.equal(results.rag.body.sources.length, 3);
        assertTokenTotalSummedOnce(rag);

        const agent = byId(results.agent.body.trace_id);
        const agentTree = tree(agent);
        assert.equal(agentTree[0], 'POST /agent/task [AGENT]');
        assert.ok(agentTree.includes('  step_1 [CHAIN]'));
        assert.ok(agentTree.includes('    chat otel-mlflow-offline [CHAT_MODEL]'));
        assert.ok(
          agentTree.some((line) => /^ {4}(search_corpus|calculator) \[TOOL\]$/.test(line)),
          agentTree.join('\n'),
        );
        assert.equal(results.agent.body.finished, true);
        assertTokenTotalSummedOnce(agent);
      } finally {
        await server.close();
      }
    });
  }

  for (const version of ['3.6.0', '3.8.1'] as const) {
    it(`/chat's session_id and user_id are MLflow's session and user on ${version} too: plain, and a metadata filter finds them`, async () => {
      const server = await startFakeMlflow({ version });
      const serve = await startServe([], { MLFLOW_TRACKING_URI: server.url, MLFLOW_EXPERIMENT_NAME: EXPERIMENT });
      try {
        for (const query of ['first turn', 'second turn']) {
          const response = await fetch(`${serve.url}/chat`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ query, session_id: 's1', user_id: 'u1' }),
          });
          assert.equal(response.status, 200);
        }
      } finally {
        const stopped = await serve.stop();
        assert.equal(stopped.code, 0, stopped.stdout + stopped.stderr);
        assert.match(stopped.stdout, /^traces: 2 delivered$/m);
      }
      try {
        const experimentId = server.store.experimentByName(EXPERIMENT)!.experimentId;
        const traces = server.store.traces(experimentId);
        assert.equal(traces.length, 2);
        for (const trace of traces) {
          assert.equal(trace.info.trace_metadata?.['mlflow.trace.session'], 's1');
          assert.equal(trace.info.trace_metadata?.['mlflow.trace.user'], 'u1');
          assert.equal(tree(trace)[0], 'POST /chat [CHAIN]');
        }
        const response = await fetch(`${server.url}/api/3.0/mlflow/traces/search`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } }],
            filter: "metadata.`mlflow.trace.session` = 's1' AND metadata.`mlflow.trace.user` = 'u1'",
          }),
        });
        assert.equal(((await response.json()) as { traces?: unknown[] }).traces?.length, 2);
      } finally {
        await server.close();
      }
    });
  }

  it('cannot listen: a host that is no address says how to choose one, a port in use says how to choose another (exit 2)', async () => {
    const badHost = await runCli(['serve', '--host', '999.1.1.1', '--port', '0']);
    assert.equal(badHost.code, 2, badHost.stdout + badHost.stderr);
    assert.match(
      badHost.stderr,
      /^error: cannot listen on 999\.1\.1\.1:0: 999\.1\.1\.1 is neither an address nor a name that resolves \(E[A-Z_]+\)$/m,
    );
    assert.match(badHost.stderr, /^hint: --host takes an address of this machine: 127\.0\.0\.1 /m);
    assert.doesNotMatch(badHost.stderr, /another port/);

    const taken = createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    try {
      const port = (taken.address() as AddressInfo).port;
      const inUse = await runCli(['serve', '--port', String(port)]);
      assert.equal(inUse.code, 2, inUse.stdout + inUse.stderr);
      assert.match(inUse.stderr, new RegExp(`^error: cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use$`, 'm'));
      assert.match(inUse.stderr, /^hint: choose another port with --port \(or PORT\), or stop what is using it$/m);
    } finally {
      taken.close();
    }
  });

  it('with OpenAI: a client that drops a stream mid-way leaves a finished span, and a provider failure is a 502 with an ERROR trace', async () => {
    const server = await startFakeMlflow({ version: '3.14.1.dev0' });
    const openai = await startFakeOpenAI({
      script: (request) =>
        request.body.stream ? { content: 'one two three four five six', interrupt: { afterChunks: 2, with: 'stall' } } : { status: 500 },
    });
    const serve = await startServe([], {
      MLFLOW_TRACKING_URI: server.url,
      OPENAI_API_KEY: 'sk-test-serve-0123456789',
      OPENAI_BASE_URL: `${openai.url}/v1`,
    });
    let failedTraceId: string | undefined;
    try {
      const controller = new AbortController();
      const response = await fetch(`${serve.url}/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'stream please', stream: true }),
        signal: controller.signal,
      });
      assert.equal(response.status, 200);
      const reader = response.body!.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      assert.match(first, /event: delta/);
      controller.abort();

      const failed = await fetch(`${serve.url}/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"query":"fail please"}',
      });
      assert.equal(failed.status, 502);
      const body = (await failed.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'llm_error');
      assert.match(body.error.message, /500/);
      failedTraceId = failed.headers.get('x-trace-id') ?? undefined;
    } finally {
      const stopped = await serve.stop();
      await openai.close();
      assert.equal(stopped.code, 0, stopped.stdout + stopped.stderr);
      assert.doesNotMatch(stopped.stdout + stopped.stderr, /sk-test-serve-0123456789/);
    }
    try {
      const traces = server.store.traces();
      assert.equal(traces.length, 2);
      const streamed = traces.find((t) => t.info.trace_id !== failedTraceId)!;
      assert.notEqual(streamed.info.state, 'IN_PROGRESS');
      const llmSpan = streamed.spans.find((s) => s.name.startsWith('chat '))!;
      assert.ok(llmSpan, 'the LLM span was exported, so it ended');
      assert.ok(llmSpan.endTimeUnixNano >= llmSpan.startTimeUnixNano);
      const failedTrace = traces.find((t) => t.info.trace_id === failedTraceId)!;
      assert.equal(failedTrace.info.state, 'ERROR');
      for (const trace of traces) {
        for (const span of trace.spans) assert.doesNotMatch(JSON.stringify(span.rawAttributes), /sk-test-serve/);
      }
    } finally {
      await server.close();
    }
  });

  it('a client that gives up on a plain answer cancels the model call, and the trace ends as ERROR', async () => {
    const server = await startFakeMlflow({ version: '3.14.1.dev0' });
    // A model that takes the request and never answers: only the client going away can end it.
    const silent = createServer(() => {});
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const modelAsked = once(silent, 'request') as Promise<[IncomingMessage]>;
    try {
      const serve = await startServe([], {
        MLFLOW_TRACKING_URI: server.url,
        OPENAI_API_KEY: 'sk-test-serve-0123456789',
        OPENAI_BASE_URL: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/v1`,
      });
      let cancelled: boolean;
      let stopped: Awaited<ReturnType<typeof serve.stop>>;
      try {
        const controller = new AbortController();
        const answer = fetch(`${serve.url}/rag/v1/answer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"query":"Will you answer?"}',
          signal: controller.signal,
        }).catch((error: unknown) => error);
        const [modelRequest] = await modelAsked;
        const modelCallClosed = once(modelRequest.socket, 'close').then(() => true);
        controller.abort();
        await answer;
        cancelled = await Promise.race([modelCallClosed, once(AbortSignal.timeout(5_000), 'abort').then(() => false)]);
      } finally {
        silent.closeAllConnections();
        stopped = await serve.stop();
      }
      assert.ok(cancelled, 'serve kept the model call open after its client left');
      assert.equal(stopped.code, 0, stopped.stdout + stopped.stderr);
      assert.match(stopped.stdout, /^POST \/rag\/v1\/answer 499 /m);
      assert.doesNotMatch(stopped.stdout + stopped.stderr, /unexpected error/);
      const [trace] = server.store.traces();
      assert.ok(trace);
      assert.equal(trace.info.state, 'ERROR');
      const root = trace.spans.find((s) => s.parentSpanId === null)!;
      assert.equal(root.attributes['http.response.status_code'], 499);
      assert.match(root.status.message, /went away/);
      assert.ok(
        trace.spans.some((s) => s.name.startsWith('chat ')),
        'the cancelled model call still has its span',
      );
    } finally {
      silent.close();
      await server.close();
    }
  });

  it('with --no-capture-content sends no prompt, answer or document text in any span, and keeps token usage', async () => {
    const server = await startFakeMlflow({ version: '3.14.1.dev0' });
    try {
      const serve = await startServe(['--no-capture-content'], { MLFLOW_TRACKING_URI: server.url });
      try {
        const response = await fetch(`${serve.url}/rag/v1/answer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"query":"a private question"}',
        });
        assert.equal(response.status, 200);
      } finally {
        const stopped = await serve.stop();
        assert.equal(stopped.code, 0, stopped.stdout + stopped.stderr);
        assert.match(stopped.stdout, /message content not recorded/);
      }
      const [trace] = server.store.traces();
      assert.ok(trace);
      assert.equal(trace.spans.length, 5);
      for (const span of trace.spans) {
        for (const key of ['mlflow.spanInputs', 'mlflow.spanOutputs', 'gen_ai.input.messages', 'gen_ai.output.messages']) {
          assert.equal(key in span.rawAttributes, false, `${span.name} has ${key}`);
        }
        assert.doesNotMatch(JSON.stringify(span.rawAttributes), /a private question/);
      }
      assert.ok(JSON.parse(trace.info.trace_metadata!['mlflow.trace.tokenUsage']!).total_tokens > 0);
    } finally {
      await server.close();
    }
  });

  it('starts with no configuration at all, answers offline, and says where traces go', async () => {
    const serve = await startServe([]);
    try {
      const response = await fetch(`${serve.url}/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"query":"What is MLflow tracing?"}',
      });
      assert.equal(response.status, 200);
      assert.match(((await response.json()) as { answer: string }).answer, /\S/);
    } finally {
      const stopped = await serve.stop();
      assert.equal(stopped.code, 0, stopped.stdout + stopped.stderr);
      assert.match(
        stopped.stdout,
        /traces go to the local store \S+otel-mlflow\/traces \(no MLflow configured: see them with `otel-mlflow traces list`/,
      );
      assert.match(stopped.stdout, /^traces: 1 kept in the local store \S+$/m);
      assert.match(stopped.stdout, /offline/);
    }
  });

  it('requires the bearer token on every route but GET / when --auth-token is given', async () => {
    const serve = await startServe(['--auth-token', 'serve-token-1234567890']);
    try {
      assert.equal((await fetch(`${serve.url}/`)).status, 200);
      const refused = await fetch(`${serve.url}/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"query":"hi"}',
      });
      assert.equal(refused.status, 401);
      const allowed = await fetch(`${serve.url}/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer serve-token-1234567890' },
        body: '{"query":"hi"}',
      });
      assert.equal(allowed.status, 200);
    } finally {
      const stopped = await serve.stop();
      assert.doesNotMatch(stopped.stdout + stopped.stderr, /serve-token-1234567890/);
    }
  });

  it('answers browser preflights from origins given by repeated --cors-origin or OTEL_MLFLOW_CORS_ORIGINS, and no others', async () => {
    const preflight = (url: string, origin: string) =>
      fetch(`${url}/chat`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
    const byFlag = await startServe(['--cors-origin', 'http://localhost:3000', '--cors-origin', 'http://localhost:5173']);
    const byEnv = await startServe([], { OTEL_MLFLOW_CORS_ORIGINS: 'https://app.example.com, http://localhost:3000' });
    try {
      for (const origin of ['http://localhost:3000', 'http://localhost:5173']) {
        const response = await preflight(byFlag.url, origin);
        assert.deepEqual([response.status, response.headers.get('access-control-allow-origin')], [204, origin]);
      }
      assert.equal((await preflight(byFlag.url, 'https://app.example.com')).headers.get('access-control-allow-origin'), null);
      const fromEnv = await preflight(byEnv.url, 'https://app.example.com');
      assert.deepEqual([fromEnv.status, fromEnv.headers.get('access-control-allow-origin')], [204, 'https://app.example.com']);
    } finally {
      await byFlag.stop();
      await byEnv.stop();
    }
  });

  it('an agent that runs out of steps says so in proper English ("1 step")', async () => {
    const openai = await startFakeOpenAI({
      script: () => ({ toolCalls: [{ id: 'call-1', name: 'calculator', arguments: '{"expression":"6*7"}' }] }),
    });
    const serve = await startServe([], { OPENAI_API_KEY: 'sk-test-steps-0123456789', OPENAI_BASE_URL: `${openai.url}/v1` });
    try {
      const response = await fetch(`${serve.url}/agent/task`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"task":"Loop","max_steps":1}',
      });
      const body = (await response.json()) as { answer: string; finished: boolean };
      assert.deepEqual([response.status, body.finished, body.answer], [200, false, 'Stopped after 1 step without a final answer.']);
    } finally {
      await serve.stop();
      await openai.close();
    }
  });

  it('refuses a --cors-origin that is not an origin, saying what one looks like (exit 3)', async () => {
    const serve = startServe(['--cors-origin', 'localhost:3000/app']);
    await assert.rejects(
      serve,
      /exited with 3 before listening[\s\S]*--cors-origin must list origins as a browser sends them, such as http:\/\/localhost:3000/,
    );
  });

  it('keeps answering when MLflow goes away, warns once per reason, and exits 7 with the traces left pending on disk', async () => {
    const server = await startFakeMlflow();
    const serve = await startServe([], { MLFLOW_TRACKING_URI: server.url });
    await server.close();
    try {
      for (let i = 0; i < 3; i++) {
        const response = await fetch(`${serve.url}/chat`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"query":"still there?"}',
        });
        assert.equal(response.status, 200, 'an export problem never fails a request');
      }
    } finally {
      const stopped = await serve.stop();
      assert.equal(stopped.code, 7, stopped.stdout + stopped.stderr);
      assert.match(
        stopped.stdout,
        /traces: 0 delivered, 3 pending in \S+ \(.*connection refused.*\); they are sent by the next otel-mlflow run with this destination or `otel-mlflow traces push`/,
      );
      assert.equal(stopped.stderr.match(/not delivered yet/g)?.length, 1, 'one warning per distinct reason');
    }
  });

  it('starts at once while nothing listens at the tracking URI, names it, and keeps the traces pending for it (exit 7)', async () => {
    const closed = await closedPortUrl();
    const serve = await startServe([], { MLFLOW_TRACKING_URI: closed });
    try {
      const port = new URL(closed).port;
      await serve.waitFor(/^note: MLflow at/m);
      assert.match(
        serve.output(),
        new RegExp(
          `note: MLflow at http://127\\.0\\.0\\.1:${port}, experiment 'otel-mlflow' cannot be reached since \\S+: Nothing is listening at 127\\.0\\.0\\.1:${port} \\(connection refused\\)`,
        ),
      );
      const response = await fetch(`${serve.url}/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"query":"anyone there?"}',
      });
      assert.equal(response.status, 200);
      const health = (await (await fetch(`${serve.url}/`)).json()) as { tracing: { route: string; problem?: { reason: string } } };
      assert.equal(health.tracing.route, 'pending');
      assert.match(health.tracing.problem?.reason ?? '', /connection refused/);
    } finally {
      const stopped = await serve.stop();
      assert.equal(stopped.code, 7, stopped.stdout + stopped.stderr);
      assert.match(
        stopped.stdout,
        /traces: 0 delivered, 1 pending in \S+ \(.*connection refused.*\); they are sent by the next otel-mlflow run/,
      );
    }
  });

  it('a SIGTERM sent the moment serve says it listens is a graceful shutdown: exit 0 and the closing line', async () => {
    const server = await startFakeMlflow({ version: '3.14.1.dev0' });
    try {
      for (let i = 0; i < 4; i++) {
        const serve = await startServe([], { MLFLOW_TRACKING_URI: server.url });
        const stopped = await serve.stop();
        assert.equal(stopped.code, 0, `shutdown ${i + 1}: ${stopped.stdout}${stopped.stderr}`);
        assert.match(stopped.stdout, /^traces: 0 delivered$/m);
      }
    } finally {
      await server.close();
    }
  });

  it('names PORT, not --port, when the PORT variable is not a port', async () => {
    const result = await runCli(['serve'], { env: { PORT: 'abc' } });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^error: PORT must be a whole number from 0 to 65535 \(got 'abc'\)$/m);
  });
});
