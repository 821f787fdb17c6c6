import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI, { BadRequestError, NotFoundError } from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { OFFLINE_MODEL } from '../../../src/config/llm-choice.ts';
import { OFFLINE_BASE_URL, offlineFetch } from '../../../src/agent/llm/offline-model.ts';
import { searchCorpus } from '../../../src/agent/llm/retrieve.ts';

const client = new OpenAI({ apiKey: 'offline', baseURL: OFFLINE_BASE_URL, fetch: offlineFetch, maxRetries: 0 });

const TOOLS: ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'search_corpus',
      description: 'Search the built-in passages about MLflow, OpenTelemetry and Databricks',
      parameters: { type: 'object', properties: { query: { type: 'string' }, top_k: { type: 'integer' } }, required: ['query'] },
    },
  },
  {
    type: 'function',
    function: {
      name: 'calculator',
      description: 'Evaluate an arithmetic expression',
      parameters: { type: 'object', properties: { expression: { type: 'string' } }, required: ['expression'] },
    },
  },
];

const ask = (content: string, extra: Partial<ChatCompletionCreateParamsNonStreaming> = {}) =>
  client.chat.completions.create({ model: OFFLINE_MODEL, messages: [{ role: 'user', content }], ...extra });

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

/** Tool calls rebuilt from streamed deltas, the way a client merges them. */
function mergeToolCalls(chunks: ChatCompletionChunk[]) {
  const calls: { id: string; name: string; arguments: string }[] = [];
  for (const chunk of chunks) {
    for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
      const call = calls[delta.index] ?? { id: '', name: '', arguments: '' };
      calls[delta.index] = call;
      call.id += delta.id ?? '';
      call.name += delta.function?.name ?? '';
      call.arguments += delta.function?.arguments ?? '';
    }
  }
  return calls;
}

describe('offline model through the openai client', () => {
  // Any attempt to reach the network fails the test that made it.
  const realFetch = globalThis.fetch;
  before(() => {
    globalThis.fetch = () => Promise.reject(new Error('the offline model used the network'));
  });
  after(() => {
    globalThis.fetch = realFetch;
  });

  it('answers a question from the best passages, citing their titles, with usage', async () => {
    const completion = await ask('What is MLflow tracing?');
    assert.equal(completion.object, 'chat.completion');
    assert.equal(completion.model, OFFLINE_MODEL);
    const [choice] = completion.choices;
    assert.equal(choice?.finish_reason, 'stop');
    assert.equal(choice?.message.role, 'assistant');
    assert.match(choice?.message.content ?? '', /^MLflow Tracing records what an LLM or agent application does/);
    assert.match(choice?.message.content ?? '', /\[MLflow Tracing\]/);
    const usage = completion.usage!;
    assert.ok(usage.prompt_tokens > 0 && usage.completion_tokens > 0);
    assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
  });

  it('says it found nothing when the corpus has nothing on the question', async () => {
    const completion = await ask('Bake me a banana bread');
    assert.match(completion.choices[0]?.message.content ?? '', /found nothing about "Bake me a banana bread"/);
  });

  it('answers only from the passages a RAG prompt quotes', async () => {
    const [hit] = searchCorpus('What is a Databricks serving endpoint?', 1);
    const prompt = `Context:\n[1] ${hit!.passage.title}\n${hit!.passage.text}\n\nQuestion: What is a Databricks serving endpoint?`;
    const answer = (await ask(prompt)).choices[0]?.message.content ?? '';
    assert.deepEqual(
      [...answer.matchAll(/\[([^\]]+)\]/g)].map((m) => m[1]),
      [hit!.passage.title],
    );
  });

  it('streams deltas that add up to the plain answer, then a usage chunk when asked', async () => {
    const question = 'How does traceparent propagate context?';
    const plain = await ask(question);
    const chunks = await collect(
      await client.chat.completions.create({
        model: OFFLINE_MODEL,
        messages: [{ role: 'user', content: question }],
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    assert.ok(chunks.length > 3);
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0]!.id));
    assert.equal(chunks[0]?.choices[0]?.delta.role, 'assistant');
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    assert.equal(text, plain.choices[0]?.message.content);
    const finishes = chunks.flatMap((c) => c.choices.map((choice) => choice.finish_reason)).filter((r) => r !== null);
    assert.deepEqual(finishes, ['stop']);
    const last = chunks.at(-1)!;
    assert.deepEqual(last.choices, []);
    assert.deepEqual(last.usage, plain.usage);
  });

  it('sends no usage chunk unless stream_options.include_usage is set', async () => {
    const chunks = await collect(
      await client.chat.completions.create({ model: OFFLINE_MODEL, messages: [{ role: 'user', content: 'What is OTLP?' }], stream: true }),
    );
    assert.ok(chunks.every((c) => c.usage == null && c.choices.length === 1));
  });

  it('stops streaming when the caller aborts', async () => {
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: OFFLINE_MODEL, messages: [{ role: 'user', content: 'What is MLflow tracing?' }], stream: true },
      { signal: controller.signal },
    );
    let received = 0;
    try {
      for await (const _ of stream) {
        received++;
        if (received === 2) controller.abort();
      }
    } catch (error) {
      assert.ok(error instanceof Error && /abort/i.test(error.name + error.message), String(error));
    }
    assert.equal(received, 2);
  });

  it('calls search_corpus with the question as JSON arguments', async () => {
    const completion = await ask('What is MLflow tracing?', { tools: TOOLS });
    const [choice] = completion.choices;
    assert.equal(choice?.finish_reason, 'tool_calls');
    assert.equal(choice?.message.content, null);
    const calls = choice?.message.tool_calls ?? [];
    assert.equal(calls.length, 1);
    const call = calls[0]!;
    assert.ok(call.type === 'function');
    assert.equal(call.function.name, 'search_corpus');
    assert.deepEqual(JSON.parse(call.function.arguments), { query: 'What is MLflow tracing?' });
    assert.match(call.id, /^call_\w+$/);
  });

  it('calls the calculator for arithmetic, then answers from the tool result', async () => {
    const question: ChatCompletionMessageParam = { role: 'user', content: 'What is 17 * 23?' };
    const first = await client.chat.completions.create({ model: OFFLINE_MODEL, messages: [question], tools: TOOLS });
    const message = first.choices[0]!.message;
    const call = message.tool_calls?.[0];
    assert.ok(call?.type === 'function');
    assert.equal(message.tool_calls?.length, 1);
    assert.equal(call.function.name, 'calculator');
    assert.deepEqual(JSON.parse(call.function.arguments), { expression: '17 * 23' });

    const second = await client.chat.completions.create({
      model: OFFLINE_MODEL,
      messages: [question, message, { role: 'tool', tool_call_id: call.id, content: '391' }],
      tools: TOOLS,
    });
    assert.equal(second.choices[0]?.finish_reason, 'stop');
    assert.equal(second.choices[0]?.message.tool_calls, undefined);
    assert.match(second.choices[0]?.message.content ?? '', /391/);
  });

  it('answers from search results by citing the passages the tool returned', async () => {
    const question: ChatCompletionMessageParam = { role: 'user', content: 'What is an OTLP collector?' };
    const first = await client.chat.completions.create({ model: OFFLINE_MODEL, messages: [question], tools: TOOLS });
    const call = first.choices[0]!.message.tool_calls![0]!;
    const results = searchCorpus('What is an OTLP collector?', 2).map(({ passage }) => ({ title: passage.title, text: passage.text }));
    const second = await client.chat.completions.create({
      model: OFFLINE_MODEL,
      messages: [question, first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: JSON.stringify(results) }],
      tools: TOOLS,
    });
    const answer = second.choices[0]?.message.content ?? '';
    assert.match(answer, /\[The OpenTelemetry Collector\]/);
  });

  it('streams tool calls as deltas that merge into the same calls', async () => {
    const question = 'What is MLflow tracing, and what is 6 times 7?';
    const plain = await ask(question, { tools: TOOLS });
    const chunks = await collect(
      await client.chat.completions.create({
        model: OFFLINE_MODEL,
        messages: [{ role: 'user', content: question }],
        tools: TOOLS,
        stream: true,
      }),
    );
    const expected = (plain.choices[0]?.message.tool_calls ?? []).map((c) => {
      assert.ok(c.type === 'function');
      return { id: c.id, name: c.function.name, arguments: c.function.arguments };
    });
    assert.deepEqual(
      expected.map((c) => c.name),
      ['calculator', 'search_corpus'],
    );
    assert.deepEqual(JSON.parse(expected[0]!.arguments), { expression: '6 * 7' });
    assert.deepEqual(mergeToolCalls(chunks), expected);
    assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, 'tool_calls');
  });

  it('leaves the calculator alone when numbers in the question are not arithmetic', async () => {
    const completion = await ask('Why does OTLP use port 4318 and not 4317?', { tools: TOOLS });
    const names = (completion.choices[0]?.message.tool_calls ?? []).map((c) => (c.type === 'function' ? c.function.name : c.type));
    assert.deepEqual(names, ['search_corpus']);
  });

  it('answers without tools when tool_choice is none, and calls the named tool when one is forced', async () => {
    const none = await ask('What is 17 * 23?', { tools: TOOLS, tool_choice: 'none' });
    assert.equal(none.choices[0]?.finish_reason, 'stop');
    const forced = await ask('What is 17 * 23?', { tools: TOOLS, tool_choice: { type: 'function', function: { name: 'search_corpus' } } });
    const call = forced.choices[0]?.message.tool_calls?.[0];
    assert.ok(call?.type === 'function');
    assert.equal(call.function.name, 'search_corpus');
  });

  it('cuts the answer at max_tokens with finish_reason length', async () => {
    const completion = await ask('What is MLflow tracing?', { max_tokens: 5 });
    assert.equal(completion.choices[0]?.finish_reason, 'length');
    assert.equal(completion.choices[0]?.message.content, 'MLflow Tracing records what an');
    assert.equal(completion.usage?.completion_tokens, 5);
  });

  it('gives the same answer, ids included, to the same request', async () => {
    const [a, b] = await Promise.all([ask('What is a span?', { tools: TOOLS }), ask('What is a span?', { tools: TOOLS })]);
    assert.deepEqual(a, b);
  });

  it('rejects a request without messages with a 400 naming the parameter', async () => {
    const error = await client.chat.completions.create({ model: OFFLINE_MODEL, messages: [] }).catch((e: unknown) => e);
    assert.ok(error instanceof BadRequestError);
    assert.equal(error.param, 'messages');
    assert.equal(error.type, 'invalid_request_error');
  });

  it('rejects a body that is not JSON with a 400 in the OpenAI error shape', async () => {
    const response = await offlineFetch(`${OFFLINE_BASE_URL}/chat/completions`, { method: 'POST', body: '{"model":' });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: { type: string; param: unknown; message: string } };
    assert.equal(body.error.type, 'invalid_request_error');
    assert.match(body.error.message, /could not parse the JSON body/);
  });

  it('answers unknown paths with 404 in the OpenAI error shape', async () => {
    const error = await client.models.list().catch((e: unknown) => e);
    assert.ok(error instanceof NotFoundError);
    assert.equal(error.code, 'unknown_url');
    assert.match(error.message, /GET \/v1\/models/);
  });
});
