import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { ResolvedConfig } from '../../../src/config/types.ts';
import { ConfigError, ExitCode, ExpectedError } from '../../../src/errors.ts';
import { chooseProvider } from '../../../src/config/llm-choice.ts';
import { createLlmClient, type CreateLlmClientOptions } from '../../../src/agent/llm/providers.ts';
import type { LlmClient } from '../../../src/agent/llm/types.ts';
import { useTempProject } from '../../config/temp-project.ts';
import { answer, startAnswerServer, type AnswerServer } from '../../mlflow/answer-server.ts';
import { startFakeAnthropic, type FakeAnthropic, type FakeAnthropicReply } from '../../fakes/fake-anthropic.ts';
import { toLlmError } from '../../../src/agent/llm-errors.ts';
import { LlmError } from '../../../src/agent/types.ts';
import { closedPortUrl } from '../../cli/closed-port.ts';

const COMPLETION = JSON.stringify({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'served-model',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the fake server.' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 },
});

const exporter = new InMemorySpanExporter();
const tracer = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }).getTracer('providers-test');

const project = useTempProject();
const load = (env: Record<string, string>, flags: { provider?: string; model?: string } = {}) =>
  project.load({ purpose: 'app', env, flags });
const create = (config: ResolvedConfig, options: Partial<CreateLlmClientOptions> = {}) =>
  createLlmClient(config, { tracer, contentAttributes: 'mlflow', ...options });
const chat = (llm: LlmClient) =>
  llm.client.chat.completions.create({ model: llm.model, messages: [{ role: 'user', content: 'What is MLflow tracing?' }] });

function databricksEnv(host: string, credentials: Record<string, string>): Record<string, string> {
  return {
    MLFLOW_TRACKING_URI: 'databricks',
    DATABRICKS_HOST: host,
    MLFLOW_EXPERIMENT_NAME: '/Users/me@example.com/app',
    OTEL_MLFLOW_LLM_PROVIDER: 'databricks',
    ...credentials,
  };
}

describe('choosing the LLM provider', () => {
  it('uses the offline model when nothing is configured, and says it was the default', async () => {
    const config = await load({});
    assert.deepEqual(chooseProvider(config), { provider: 'offline', reason: 'default' });
    const llm = create(config);
    assert.equal(llm.provider, 'offline');
    assert.equal(llm.model, 'otel-mlflow-offline');
    assert.equal(llm.describe(), 'offline (built-in model, no network)');
  });

  it('uses openai when OPENAI_API_KEY is set, without showing the key', async () => {
    const llm = create(await load({ OPENAI_API_KEY: 'sk-secret-123' }));
    assert.equal(llm.provider, 'openai');
    assert.equal(llm.model, 'gpt-4o-mini');
    assert.equal(llm.describe(), 'openai gpt-4o-mini at https://api.openai.com/v1');
  });

  it('follows an explicit --provider over an OpenAI key, and --model', async () => {
    const config = await load({ OPENAI_API_KEY: 'sk-secret-123' }, { provider: 'offline' });
    assert.deepEqual(chooseProvider(config), { provider: 'offline', reason: 'configured' });
    assert.equal(create(config).provider, 'offline');
    assert.equal(create(await load({ OPENAI_API_KEY: 'sk-1' }, { model: 'gpt-4.1' })).model, 'gpt-4.1');
  });

  it('records offline answers as CHAT_MODEL spans of provider otel-mlflow.offline', async () => {
    exporter.reset();
    const completion = await chat(create(await load({})));
    assert.match(completion.choices[0]?.message.content ?? '', /MLflow Tracing/);
    const [span] = exporter.getFinishedSpans();
    assert.equal(span?.attributes['gen_ai.provider.name'], 'otel-mlflow.offline');
    assert.equal(span?.attributes['mlflow.spanType'], 'CHAT_MODEL');
  });
});

describe('openai provider', () => {
  let server: AnswerServer;
  before(async () => {
    server = await startAnswerServer((_req, res) => answer(res, 200, COMPLETION));
  });
  after(() => server.close());

  it('calls any OpenAI-compatible server at OPENAI_BASE_URL with the key as Bearer token', async () => {
    const llm = create(await load({ OPENAI_API_KEY: 'sk-test-key', OPENAI_BASE_URL: `${server.url}/v1` }));
    assert.equal(llm.describe(), `openai gpt-4o-mini at ${server.url}/v1`);
    const completion = await chat(llm);
    assert.equal(completion.choices[0]?.message.content, 'Hello from the fake server.');
    const seen = server.seen.at(-1)!;
    assert.equal(seen.url, '/v1/chat/completions');
    assert.equal(seen.headers.authorization, 'Bearer sk-test-key');
    assert.equal(JSON.parse(seen.body).model, 'gpt-4o-mini');
  });

  it('fails with a config error naming OPENAI_API_KEY when chosen without a key or base URL', async () => {
    const config = await load({}, { provider: 'openai' });
    assert.throws(
      () => create(config),
      (error: unknown) => error instanceof ExpectedError && error.exitCode === ExitCode.config && /OPENAI_API_KEY/.test(error.hint ?? ''),
    );
  });
});

describe('databricks provider', () => {
  let server: AnswerServer;
  let tokensIssued = 0;
  /** Chat requests carrying these tokens are refused, as Databricks refuses an expired token. */
  const rejected = new Set<string>();
  before(async () => {
    server = await startAnswerServer((req, res) => {
      if (req.method === 'POST' && req.url === '/oidc/v1/token') {
        tokensIssued++;
        answer(res, 200, JSON.stringify({ access_token: `oauth-token-${tokensIssued}`, token_type: 'Bearer', expires_in: 3600 }));
      } else if (req.method === 'POST' && req.url === '/serving-endpoints/chat/completions') {
        const token = req.headers.authorization?.replace(/^Bearer /, '') ?? '';
        if (rejected.has(token)) answer(res, 403, JSON.stringify({ error_code: 'PERMISSION_DENIED', message: 'Invalid access token.' }));
        else answer(res, 200, COMPLETION);
      } else {
        answer(res, 404, JSON.stringify({ error_code: 'ENDPOINT_NOT_FOUND', message: `no ${req.url}` }));
      }
    });
  });
  after(() => server.close());

  const chatRequests = () => server.seen.filter((r) => r.url === '/serving-endpoints/chat/completions');

  it('queries {host}/serving-endpoints with the personal access token, recording provider databricks', async () => {
    exporter.reset();
    const llm = create(await load(databricksEnv(server.url, { DATABRICKS_TOKEN: 'dapi-secret-pat' })));
    assert.equal(llm.provider, 'databricks');
    assert.equal(llm.model, 'databricks-meta-llama-3-3-70b-instruct');
    assert.equal(llm.describe(), `databricks serving endpoint databricks-meta-llama-3-3-70b-instruct at ${server.url}/serving-endpoints`);
    await chat(llm);
    const seen = chatRequests().at(-1)!;
    assert.equal(seen.headers.authorization, 'Bearer dapi-secret-pat');
    assert.equal(JSON.parse(seen.body).model, 'databricks-meta-llama-3-3-70b-instruct');
    const [span] = exporter.getFinishedSpans();
    assert.equal(span?.attributes['gen_ai.provider.name'], 'databricks');
    assert.ok(!JSON.stringify(span?.attributes).includes('dapi-secret-pat'));
  });

  it('fetches an OAuth M2M token and fetches a new one once it expires', async () => {
    let clock = Date.UTC(2026, 0, 1);
    const issued = tokensIssued;
    const llm = create(await load(databricksEnv(server.url, { DATABRICKS_CLIENT_ID: 'sp-id', DATABRICKS_CLIENT_SECRET: 'sp-secret' })), {
      now: () => clock,
    });
    assert.ok(!llm.describe().includes('sp-secret'));
    await chat(llm);
    await chat(llm);
    assert.equal(tokensIssued, issued + 1, 'a valid token is reused');
    assert.equal(chatRequests().at(-1)?.headers.authorization, `Bearer oauth-token-${issued + 1}`);
    clock += 3600_000;
    await chat(llm);
    assert.equal(tokensIssued, issued + 2);
    assert.equal(chatRequests().at(-1)?.headers.authorization, `Bearer oauth-token-${issued + 2}`);
    const tokenRequest = server.seen.findLast((r) => r.url === '/oidc/v1/token')!;
    assert.equal(tokenRequest.headers.authorization, `Basic ${Buffer.from('sp-id:sp-secret').toString('base64')}`);
  });

  it('retries once with a fresh OAuth token when the workspace refuses the current one', async () => {
    const llm = create(await load(databricksEnv(server.url, { DATABRICKS_CLIENT_ID: 'sp-id', DATABRICKS_CLIENT_SECRET: 'sp-secret' })));
    await chat(llm);
    rejected.add(`oauth-token-${tokensIssued}`);
    const completion = await chat(llm);
    assert.equal(completion.choices[0]?.message.content, 'Hello from the fake server.');
    assert.equal(chatRequests().at(-1)?.headers.authorization, `Bearer oauth-token-${tokensIssued}`);
  });

  it('answers from DATABRICKS_HOST and DATABRICKS_TOKEN alone: where traces go does not decide which model answers', async () => {
    const config = await load({ DATABRICKS_HOST: server.url, DATABRICKS_TOKEN: 'dapi-serving-only-pat' }, { provider: 'databricks' });
    assert.equal(config.destination.kind, 'local');
    const completion = await chat(create(config));
    assert.equal(completion.choices[0]?.message.content, 'Hello from the fake server.');
    assert.equal(chatRequests().at(-1)?.headers.authorization, 'Bearer dapi-serving-only-pat');
  });

  it('names the workspace and credential it needs when traces go to a self-hosted MLflow, not MLFLOW_TRACKING_URI', async () => {
    const config = await load({ MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000' }, { provider: 'databricks' });
    assert.throws(
      () => create(config),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.exitCode === ExitCode.config &&
        /the databricks LLM provider \(from flag --provider\) needs the workspace that serves the model: set DATABRICKS_HOST=/.test(
          error.message,
        ) &&
        /no Databricks credentials: set DATABRICKS_TOKEN/.test(error.message) &&
        !/MLFLOW_TRACKING_URI=databricks/.test(error.message),
    );
    assert.match(config.notices.join('\n'), /the LLM cannot answer: the databricks LLM provider/, 'config and doctor show it too');
  });
});

describe('anthropic provider', () => {
  const KEY = 'sk-ant-api03-provider-test-5d1e';
  let fake: FakeAnthropic;
  let reply: FakeAnthropicReply = {};
  before(async () => {
    fake = await startFakeAnthropic({ script: () => reply });
  });
  after(() => fake.close());
  const anthropic = async (env: Record<string, string> = {}) =>
    create(await load({ ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: fake.url, ...env }, { provider: 'anthropic' }));

  it('is chosen by ANTHROPIC_API_KEY when no provider and no OpenAI settings are, with its default model', async () => {
    const config = await load({ ANTHROPIC_API_KEY: KEY });
    assert.deepEqual(chooseProvider(config), { provider: 'anthropic', reason: 'anthropic-settings' });
    const llm = create(config);
    assert.equal(llm.model, 'claude-haiku-5-5');
    assert.equal(llm.describe(), 'anthropic claude-haiku-5-5 at https://api.anthropic.com');
    assert.equal(chooseProvider(await load({ ANTHROPIC_API_KEY: KEY, OPENAI_API_KEY: 'sk-1' })).provider, 'openai');
  });

  it('answers chat completions through the Messages API, as one Anthropic-shaped CHAT_MODEL span', async () => {
    exporter.reset();
    reply = { content: 'Tracing records each step.', usage: { input_tokens: 20, output_tokens: 4, cache_read_input_tokens: 100 } };
    const llm = await anthropic({});
    assert.equal(llm.baseUrl, fake.url);
    const completion = await llm.client.chat.completions.create({
      model: llm.model,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'What is MLflow tracing?' },
      ],
    });
    assert.equal(completion.choices[0]?.message.content, 'Tracing records each step.');
    assert.equal(completion.choices[0]?.finish_reason, 'stop');
    assert.deepEqual(completion.usage, { prompt_tokens: 120, completion_tokens: 4, total_tokens: 124 });

    const sent = fake.requests.at(-1)!;
    assert.match(`${sent.headers['x-api-key']} ${sent.headers.authorization}`, new RegExp(KEY));
    assert.deepEqual(sent.body, {
      model: 'claude-haiku-5-5',
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'What is MLflow tracing?' }],
      system: 'Be brief.',
    });
    const spans = exporter.getFinishedSpans();
    assert.equal(spans.length, 1, 'no second span from the openai client in front');
    const span = spans[0]!;
    assert.equal(span.name, 'chat claude-haiku-5-5');
    assert.equal(span.attributes['gen_ai.provider.name'], 'anthropic');
    assert.equal(span.attributes['mlflow.message.format'], 'anthropic');
    assert.equal(span.attributes['mlflow.chat.tokenUsage'], '{"input_tokens":120,"output_tokens":4,"total_tokens":124}');
    assert.ok(!JSON.stringify(span.attributes).includes(KEY));
  });

  it('translates tools, tool calls and tool results both ways', async () => {
    reply = { toolUses: [{ id: 'toolu_1', name: 'calculator', input: { expression: '2*21' } }] };
    const llm = await anthropic();
    const tools = [
      {
        type: 'function' as const,
        function: {
          name: 'calculator',
          description: 'Arithmetic',
          parameters: { type: 'object', properties: { expression: { type: 'string' } } },
        },
      },
    ];
    const first = await llm.client.chat.completions.create({
      model: llm.model,
      messages: [{ role: 'user', content: '2*21?' }],
      tools,
      tool_choice: 'auto',
    });
    const call = first.choices[0]!.message.tool_calls![0]!;
    assert.equal(first.choices[0]!.finish_reason, 'tool_calls');
    assert.deepEqual(call, { id: 'toolu_1', type: 'function', function: { name: 'calculator', arguments: '{"expression":"2*21"}' } });
    assert.deepEqual(fake.requests.at(-1)!.body.tools, [
      { name: 'calculator', description: 'Arithmetic', input_schema: tools[0]!.function.parameters },
    ]);
    assert.deepEqual(fake.requests.at(-1)!.body.tool_choice, { type: 'auto' });

    reply = { content: '42' };
    await llm.client.chat.completions.create({
      model: llm.model,
      messages: [
        { role: 'user', content: '2*21?' },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: 'toolu_1', content: '{"value":42}' },
      ],
      tools,
    });
    assert.deepEqual(fake.requests.at(-1)!.body.messages, [
      { role: 'user', content: '2*21?' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'calculator', input: { expression: '2*21' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '{"value":42}' }] },
    ]);
  });

  it('streams text deltas and the usage chunk, and the span ends with the stream', async () => {
    exporter.reset();
    reply = { content: 'one two three', usage: { input_tokens: 9, output_tokens: 3 } };
    const llm = await anthropic();
    const stream = await llm.client.chat.completions.create({
      model: llm.model,
      messages: [{ role: 'user', content: 'count' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, 'one two three');
    assert.deepEqual(usage, { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 });
    const [span] = exporter.getFinishedSpans();
    assert.equal(span?.attributes['mlflow.chat.tokenUsage'], '{"input_tokens":9,"output_tokens":3,"total_tokens":12}');
  });

  it("keeps Anthropic's error status and message, with the key masked, and names the provider", async () => {
    reply = { status: 400, errorMessage: 'max_tokens: must be at most 64000' };
    const llm = await anthropic();
    const error = toLlmError(
      await llm.client.chat.completions.create({ model: llm.model, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e),
      llm,
    );
    assert.ok(error instanceof LlmError);
    assert.equal(
      error.message,
      `the anthropic model provider at ${fake.url} answered 400 for model claude-haiku-5-5: 400 max_tokens: must be at most 64000`,
    );

    reply = { status: 401 };
    const refused = toLlmError(
      await llm.client.chat.completions.create({ model: llm.model, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e),
      llm,
    );
    assert.match((refused as Error).message, /answered 401 .*the API key was refused/);
  });

  it('a closed port is a connection failure that says so', async () => {
    const closed = await closedPortUrl();
    const llm = create(await load({ ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: closed }, { provider: 'anthropic' }));
    const error = toLlmError(
      await llm.client.chat.completions.create({ model: llm.model, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e),
      llm,
    );
    assert.ok(error instanceof LlmError);
    assert.ok(error.message.startsWith(`cannot reach the anthropic model provider at ${closed}: `), error.message);
    assert.match(error.message, /refused/);
  });

  it('fails with a config error naming ANTHROPIC_API_KEY when chosen without a key or base URL', async () => {
    const config = await load({}, { provider: 'anthropic' });
    assert.throws(
      () => create(config),
      (error: unknown) =>
        error instanceof ExpectedError && error.exitCode === ExitCode.config && /ANTHROPIC_API_KEY/.test(error.hint ?? ''),
    );
  });
});
