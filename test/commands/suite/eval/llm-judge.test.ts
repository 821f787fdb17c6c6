import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { createLlmJudge, type JudgedAnswer } from '../../../../src/commands/suite/eval/judge/llm-judge.ts';
import { readVerdict } from '../../../../src/commands/suite/eval/judge/judge-prompt.ts';
import { createLlmClient } from '../../../../src/agent/llm/providers.ts';
import { useTempProject } from '../../../config/temp-project.ts';
import { startFakeOpenAI, type FakeOpenAI, type FakeReply, type FakeOpenAIRequest } from '../../../fakes/fake-openai.ts';
import { memoryTracer } from '../../../tracing/span-fixtures.ts';

const ANSWER: JudgedAnswer = {
  question: 'How do I send OpenTelemetry traces to MLflow?',
  answer: 'Post OTLP/HTTP protobuf to /v1/traces with the x-mlflow-experiment-id header.',
  expect: { mentions: ['/v1/traces', 'x-mlflow-experiment-id'] },
  traceId: 'tr-0123456789abcdef0123456789abcdef',
};

// As the runtime does: without it, no span would find its parent.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

const lastUserMessage = (request: FakeOpenAIRequest) => String((request.body.messages.at(-1) as { content: string }).content);

describe('the LLM judge', () => {
  const project = useTempProject();
  let openai: FakeOpenAI;
  let reply: (request: FakeOpenAIRequest) => FakeReply = () => ({
    content: '{"rationale": "It names the endpoint and header.", "verdict": "yes"}',
  });
  before(async () => {
    openai = await startFakeOpenAI({ script: (request) => reply(request) });
  });
  after(() => openai.close());

  async function setUp() {
    const config = await project.load({
      purpose: 'app',
      env: { OPENAI_API_KEY: 'sk-judge-test-0123456789', OPENAI_BASE_URL: `${openai.url}/v1` },
    });
    const spans = memoryTracer();
    const llm = createLlmClient(config, { tracer: spans.tracer, contentAttributes: 'mlflow' });
    return { judge: createLlmJudge({ llm, tracer: spans.tracer }), spans };
  }

  it('judges correctness with the question, the expected facts and the answer; the score names the model and keeps the rationale', async () => {
    openai.requests.length = 0;
    const { judge } = await setUp();
    const scores = await judge.judge(ANSWER);
    assert.deepEqual(scores, [
      {
        name: 'correctness',
        value: true,
        passed: true,
        rationale: 'It names the endpoint and header.',
        source: { type: 'LLM_JUDGE', id: 'gpt-4o-mini' },
      },
    ]);
    assert.equal(openai.requests.length, 1);
    const prompt = lastUserMessage(openai.requests[0]!);
    assert.match(prompt, /Question: How do I send OpenTelemetry traces to MLflow\?/);
    assert.match(prompt, /- x-mlflow-experiment-id/);
    assert.match(prompt, /Answer: Post OTLP\/HTTP protobuf/);
  });

  it('judges groundedness of a cited answer against the text of its sources', async () => {
    openai.requests.length = 0;
    reply = (request) =>
      lastUserMessage(request).startsWith('Sources:')
        ? { content: 'Here you go: {"verdict": "no", "rationale": "The sources do not mention gRPC."}' }
        : { content: '{"verdict": "yes", "rationale": "Correct."}' };
    const { judge } = await setUp();
    const scores = await judge.judge({
      ...ANSWER,
      sources: [{ id: 'mlflow-otlp-ingest', title: 'Sending OpenTelemetry traces to MLflow' }],
    });
    assert.deepEqual(
      scores.map((s) => [s.name, s.passed, s.rationale]),
      [
        ['correctness', true, 'Correct.'],
        ['groundedness', false, 'The sources do not mention gRPC.'],
      ],
    );
    const grounded = openai.requests.map(lastUserMessage).find((p) => p.startsWith('Sources:'))!;
    assert.match(
      grounded,
      /\[1\] Sending OpenTelemetry traces to MLflow \(mlflow-otlp-ingest\): Since version 3\.6 the MLflow tracking server accepts/,
    );
  });

  it('makes each judgement its own trace named judge, with the model call as its CHAT_MODEL child', async () => {
    reply = () => ({ content: '{"verdict": "yes", "rationale": "Fine."}' });
    const { judge, spans } = await setUp();
    // Even where a span is active, a judgement starts a trace of its own.
    await spans.tracer.startActiveSpan('outer', async (outer) => {
      await judge.judge({ ...ANSWER, sources: [{ id: 'mlflow-otlp-ingest', title: 'Sending OpenTelemetry traces to MLflow' }] });
      outer.end();
    });
    const finished = spans.finished().filter((s) => s.name !== 'outer');
    const roots = finished.filter((s) => s.name === 'judge');
    assert.equal(roots.length, 2);
    assert.ok(roots.every((root) => root.parentSpanContext === undefined));
    assert.notEqual(roots[0]!.spanContext().traceId, roots[1]!.spanContext().traceId);
    for (const root of roots) {
      const children = finished.filter((s) => s.parentSpanContext?.spanId === root.spanContext().spanId);
      assert.deepEqual(
        children.map((c) => c.attributes['mlflow.spanType']),
        ['CHAT_MODEL'],
      );
      assert.match(String(root.attributes['mlflow.spanInputs']), /"judged_trace_id":"tr-0123456789abcdef0123456789abcdef"/);
    }
    assert.doesNotMatch(JSON.stringify(finished.map((s) => s.attributes)), /sk-judge-test/);
  });

  it('fails the score, saying why, when the judge gives no verdict or cannot be reached', async () => {
    reply = () => ({ content: 'I think it is mostly right.' });
    const unreadable = (await (await setUp()).judge.judge(ANSWER))[0]!;
    assert.deepEqual(
      [unreadable.passed, unreadable.rationale],
      [false, 'the judge\'s reply held no verdict: "I think it is mostly right."'],
    );
    reply = () => ({ status: 500 });
    const failed = (await (await setUp()).judge.judge(ANSWER))[0]!;
    assert.equal(failed.passed, false);
    assert.match(failed.rationale, /^the judge could not answer: the openai model provider at http:\/\/127\.0\.0\.1:\d+\/v1 answered 500/);
  });

  it('reads verdicts as JSON yes/no, true/false or pass/fail', () => {
    assert.deepEqual(readVerdict('{"verdict": "Yes", "rationale": " ok "}'), { passed: true, rationale: 'ok' });
    assert.deepEqual(readVerdict('```json\n{"verdict": false}\n```'), { passed: false, rationale: 'the judge gave no rationale' });
    assert.equal(readVerdict('{"verdict": "maybe"}'), undefined);
    assert.equal(readVerdict('{not json}'), undefined);
  });
});
