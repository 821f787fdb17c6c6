import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HealthInfo } from '../../src/agent/api-schemas.ts';
import { startFakeAnthropic, type FakeAnthropicReply, type FakeAnthropicRequest } from '../fakes/fake-anthropic.ts';
import { startFakeMlflow } from '../fakes/fake-mlflow.ts';
import type { StoredSpan, StoredTrace } from '../fakes/trace-store.ts';
import { runCli } from './run-cli.ts';
import { startServe } from './serve-process.ts';

const KEY = 'sk-ant-api03-serve-e2e-9f3b7a2c';
const EXPERIMENT = 'serve-anthropic';
const MODEL = 'claude-haiku-5-5';

/** Claude as the agent needs it: a search for the first step of a task, then an answer; text everywhere else. */
function script(request: FakeAnthropicRequest): FakeAnthropicReply {
  const asksForTools = (request.body.tools?.length ?? 0) > 0;
  const hasToolResult = JSON.stringify(request.body.messages).includes('"tool_result"');
  if (asksForTools && !hasToolResult) {
    return {
      toolUses: [{ id: 'toolu_search_1', name: 'search_corpus', input: { query: 'distributed tracing benefits' } }],
      usage: { input_tokens: 300, output_tokens: 25 },
    };
  }
  return {
    content: 'Tracing shows where time goes across services.',
    usage: { input_tokens: 120, output_tokens: 9, cache_read_input_tokens: 40 },
  };
}

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

function totalTokens(value: unknown): number {
  return ((typeof value === 'string' ? JSON.parse(value) : value) as { total_tokens: number }).total_tokens;
}

async function post(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> & { trace_id: string } }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> & { trace_id: string } };
}

describe('otel-mlflow serve --provider anthropic', () => {
  it('answers /chat (plain and streamed), /rag/v1/answer and /agent/task with Claude, each one trace with Anthropic-shaped CHAT_MODEL spans', async () => {
    const mlflow = await startFakeMlflow({ version: '3.14.1.dev0' });
    const anthropic = await startFakeAnthropic({ script });
    try {
      const serve = await startServe(['--provider', 'anthropic'], {
        MLFLOW_TRACKING_URI: mlflow.url,
        MLFLOW_EXPERIMENT_NAME_OTEL: EXPERIMENT,
        ANTHROPIC_API_KEY: KEY,
        ANTHROPIC_BASE_URL: anthropic.url,
      });
      let results: Record<'chat' | 'rag' | 'agent', Awaited<ReturnType<typeof post>>>;
      let health: HealthInfo;
      let streamed: string;
      try {
        health = (await (await fetch(`${serve.url}/`)).json()) as HealthInfo;
        results = {
          chat: await post(`${serve.url}/chat`, { query: 'What is OpenTelemetry?' }),
          rag: await post(`${serve.url}/rag/v1/answer`, { query: 'Explain MLflow tracing' }),
          agent: await post(`${serve.url}/agent/task`, { task: 'Analyze distributed tracing benefits' }),
        };
        const stream = await fetch(`${serve.url}/chat`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"query":"Stream it","stream":true}',
        });
        streamed = await stream.text();
      } finally {
        const stopped = await serve.stop();
        assert.equal(stopped.code, 0, stopped.stdout + stopped.stderr);
        assert.match(stopped.stdout, new RegExp(`^LLM: anthropic ${MODEL} at ${anthropic.url}$`, 'm'));
        assert.match(stopped.stdout, /^traces: 4 delivered$/m);
        assert.ok(!(stopped.stdout + stopped.stderr).includes(KEY), 'the key is never printed');
      }

      assert.equal(health.llm.provider, 'anthropic');
      assert.equal(health.llm.model, MODEL);
      for (const [name, result] of Object.entries(results)) assert.equal(result.status, 200, `${name}: ${JSON.stringify(result.body)}`);
      assert.equal(results.chat.body.answer, 'Tracing shows where time goes across services.');
      assert.deepEqual(results.chat.body.usage, { input_tokens: 160, output_tokens: 9, total_tokens: 169 });
      assert.equal(results.agent.body.finished, true);
      assert.deepEqual((results.agent.body.steps as { tool_calls: { name: string }[] }[])[0]!.tool_calls[0]!.name, 'search_corpus');
      assert.match(streamed, /event: delta/);
      assert.match(streamed, /event: done[\s\S]*"total_tokens":169/);

      // What Claude was sent: the key, a system prompt, and for the task's second step the tool's result.
      assert.ok(anthropic.requests.every((request) => `${request.headers['x-api-key']} ${request.headers.authorization}`.includes(KEY)));
      assert.ok(anthropic.requests.every((request) => typeof request.body.system === 'string' && request.body.model === MODEL));
      const [firstStep, secondStep] = anthropic.requests.filter((request) => request.body.tools);
      assert.deepEqual(
        (firstStep!.body.tools as { name: string }[]).map((tool) => tool.name),
        ['search_corpus', 'calculator'],
      );
      const toolTurn = secondStep!.body.messages.at(-1) as { role: string; content: { type: string; tool_use_id: string }[] };
      assert.equal(toolTurn.role, 'user');
      assert.equal(toolTurn.content[0]!.type, 'tool_result');
      assert.equal(toolTurn.content[0]!.tool_use_id, 'toolu_search_1');

      const traces = mlflow.store.traces(mlflow.store.experimentByName(EXPERIMENT)!.experimentId);
      assert.equal(traces.length, 4);
      const byId = (id: string) => traces.find((trace) => trace.info.trace_id === id)!;
      const chat = byId(results.chat.body.trace_id);
      assert.deepEqual(tree(chat), ['POST /chat [CHAIN]', `  chat ${MODEL} [CHAT_MODEL]`]);
      assert.equal(chat.info.request_preview, 'What is OpenTelemetry?');
      assert.equal(chat.info.response_preview, 'Tracing shows where time goes across services.');
      assert.deepEqual(tree(byId(results.rag.body.trace_id)), [
        'POST /rag/v1/answer [CHAIN]',
        '  retrieve_documents [RETRIEVER]',
        '  generate_context [CHAIN]',
        '  generate_answer [CHAIN]',
        `    chat ${MODEL} [CHAT_MODEL]`,
      ]);
      assert.deepEqual(tree(byId(results.agent.body.trace_id)), [
        'POST /agent/task [AGENT]',
        '  step_1 [CHAIN]',
        `    chat ${MODEL} [CHAT_MODEL]`,
        '    search_corpus [TOOL]',
        '  step_2 [CHAIN]',
        `    chat ${MODEL} [CHAT_MODEL]`,
      ]);

      for (const trace of traces) {
        const models = trace.spans.filter((span) => span.attributes['mlflow.spanType'] === 'CHAT_MODEL');
        for (const span of models) {
          assert.equal(span.attributes['mlflow.message.format'], 'anthropic');
          assert.equal(span.attributes['gen_ai.provider.name'], 'anthropic');
          const inputs = span.attributes['mlflow.spanInputs'] as { model: string; system: string; messages: { role: string }[] };
          assert.equal(inputs.model, MODEL);
          assert.equal(inputs.messages[0]!.role, 'user');
          assert.ok((span.attributes['mlflow.spanOutputs'] as { content: unknown[] }).content.length > 0);
        }
        // Usage only on the CHAT_MODEL spans, and the trace's total is their sum: counted once.
        const withUsage = trace.spans.filter((span) => span.attributes['mlflow.chat.tokenUsage'] !== undefined);
        assert.deepEqual(withUsage, models);
        const sum = models.reduce((total, span) => total + totalTokens(span.attributes['mlflow.chat.tokenUsage']), 0);
        assert.equal(totalTokens(trace.info.trace_metadata!['mlflow.trace.tokenUsage']), sum);
        assert.ok(!JSON.stringify(trace.spans.map((span) => span.rawAttributes)).includes(KEY), 'the key is on no span');
      }
      assert.equal(totalTokens(byId(results.agent.body.trace_id).info.trace_metadata!['mlflow.trace.tokenUsage']), 325 + 169);
    } finally {
      await anthropic.close();
      await mlflow.close();
    }
  });

  it('a refused key is a 502 naming Anthropic, and its trace ends as ERROR', async () => {
    const mlflow = await startFakeMlflow({ version: '3.14.1.dev0' });
    const anthropic = await startFakeAnthropic({ script: () => ({ status: 401, errorMessage: `invalid x-api-key ${KEY}` }) });
    try {
      const serve = await startServe([], { MLFLOW_TRACKING_URI: mlflow.url, ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: anthropic.url });
      let failed: Awaited<ReturnType<typeof post>>;
      try {
        failed = await post(`${serve.url}/chat`, { query: 'Hello?' });
      } finally {
        const stopped = await serve.stop();
        assert.equal(stopped.code, 0, stopped.stdout + stopped.stderr);
        assert.ok(!(stopped.stdout + stopped.stderr).includes(KEY));
      }
      assert.equal(failed.status, 502);
      const error = failed.body.error as { code: string; message: string };
      assert.equal(error.code, 'llm_error');
      assert.equal(
        error.message,
        `the anthropic model provider at ${anthropic.url} answered 401 for model ${MODEL}: the API key was refused`,
      );
      const [trace] = mlflow.store.traces();
      assert.equal(trace!.info.state, 'ERROR');
      const span = trace!.spans.find((s) => s.attributes['mlflow.spanType'] === 'CHAT_MODEL')!;
      assert.equal(span.attributes['http.response.status_code'], 401);
      assert.ok(
        !JSON.stringify(trace!.spans.map((s) => [s.rawAttributes, s.status, s.events.map((event) => event.attributes)])).includes(KEY),
        'the echoed key is masked on spans',
      );
    } finally {
      await anthropic.close();
      await mlflow.close();
    }
  });

  it('config shows the provider, the model and the masked key', async () => {
    const result = await runCli(['config', '--json'], { env: { ANTHROPIC_API_KEY: KEY, OTEL_MLFLOW_LLM_PROVIDER: 'anthropic' } });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(!result.stdout.includes(KEY));
    const json = JSON.parse(result.stdout) as {
      llm: { provider: string; description: string };
      entries: { key: string; value: string; secret: boolean }[];
    };
    assert.equal(json.llm.provider, 'anthropic');
    assert.equal(json.llm.description, `anthropic ${MODEL} at https://api.anthropic.com`);
    assert.deepEqual(
      json.entries.find((entry) => entry.key === 'anthropicApiKey'),
      { key: 'anthropicApiKey', value: `****${KEY.slice(-4)}`, source: 'env ANTHROPIC_API_KEY', secret: true },
    );
  });
});
