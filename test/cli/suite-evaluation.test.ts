import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BUILTIN_QUESTIONS } from '../../src/commands/suite/builtin-questions.ts';
import { startFakeOpenAI, type FakeOpenAIRequest } from '../fakes/fake-openai.ts';
import { withStore } from '../fakes/with-store.ts';
import { runCli } from './run-cli.ts';

const OTLP_QUESTION = 'How do I send OpenTelemetry traces to an MLflow tracking server?';

/** Four questions the offline model answers alike; the last three expect what its /rag answer lacks. */
const UNMET = [
  '- id: met',
  `  question: ${OTLP_QUESTION}`,
  '  expect: {mentions: [/v1/traces, x-mlflow-experiment-id], cites: [mlflow-otlp-ingest]}',
  '- id: grpc',
  `  question: ${OTLP_QUESTION}`,
  '  expect: {mentions: [/v1/traces, gRPC on port 4317]}',
  '- id: uc',
  `  question: ${OTLP_QUESTION}`,
  '  expect: {cites: [databricks-uc-traces]}',
  '- id: tokens',
  `  question: ${OTLP_QUESTION}`,
  '  expect: {max_tokens: 10}',
].join('\n');

interface JsonRun {
  ok: boolean;
  passed: number;
  failed: number;
  results: {
    id: string;
    evaluation: { passed: boolean; scores: { name: string; passed: boolean; rationale: string; source: { type: string; id: string } }[] };
  }[];
  evaluation: { passRate: number; minPassRate: number };
}

function assertFitsIn80Columns(output: string): void {
  for (const line of output.split('\n')) assert.ok(line.length <= 80, `${line.length} columns: ${line}`);
}

describe('otel-mlflow suite: expectations and verdicts', () => {
  let dir: string;
  let unmet: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'otel-mlflow-suite-eval-'));
    unmet = join(dir, 'unmet.yaml');
    await writeFile(unmet, UNMET);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('fails exactly the questions whose expectations the answers miss, each naming the missed expectation (exit 10)', async () => {
    const result = await runCli(['suite', '--spawn', '--endpoint', 'rag', '--file', unmet], {
      env: { OTEL_MLFLOW_STORE_DIR: join(dir, 'unmet-store') },
    });
    assert.equal(result.code, 10, result.stdout + result.stderr);
    const rows = result.stdout.split('\n').filter((line) => /^\d {2}How do I send/.test(line));
    assert.deepEqual(
      rows.map((row) => row.split(/\s{2,}/)[2]),
      ['passed', 'failed', 'failed', 'failed'],
    );
    const reasons = result.stdout.replace(/\n {4}/g, ' ');
    assert.match(reasons, /^#2 failed mentions: missing "gRPC on port 4317" \(1 of 2 expected mentioned\)$/m);
    assert.match(reasons, /^#3 failed cites: does not cite "databricks-uc-traces"; cited "mlflow-otlp-ingest", /m);
    assert.match(reasons, /^#4 failed tokens: used \d+ tokens, over the budget of 10$/m);
    assert.doesNotMatch(reasons, /^#1 failed/m);
    assert.match(result.stdout, /^4 questions: 1 passed, 3 failed$/m);
    assert.match(result.stdout, /^pass rate 25%, below the bar of 100%$/m);
    assertFitsIn80Columns(result.stdout);
  });

  it('--min-pass-rate sets the bar for the exit code; --json carries each verdict and the bar', async () => {
    const env = { OTEL_MLFLOW_STORE_DIR: join(dir, 'bar-store') };
    const cleared = await runCli(['suite', '--spawn', '--json', '--endpoint', 'rag', '--file', unmet, '--min-pass-rate', '25%'], { env });
    assert.equal(cleared.code, 0, cleared.stdout + cleared.stderr);
    const json = JSON.parse(cleared.stdout) as JsonRun;
    assert.equal(json.ok, true);
    assert.deepEqual([json.passed, json.failed], [1, 3]);
    assert.deepEqual(json.evaluation.minPassRate, 0.25);
    assert.deepEqual(
      json.results.map((r) => [r.id, r.evaluation.passed, r.evaluation.scores.filter((s) => !s.passed).map((s) => s.name)]),
      [
        ['met', true, []],
        ['grpc', false, ['mentions']],
        ['uc', false, ['cites']],
        ['tokens', false, ['tokens']],
      ],
    );
    const missed = await runCli(['suite', '--spawn', '--endpoint', 'rag', '--file', unmet, '--min-pass-rate', '0.3'], { env });
    assert.equal(missed.code, 10, missed.stdout + missed.stderr);
    assert.match(missed.stdout, /^pass rate 25%, below the bar of 30%$/m);
  });

  it('refuses a --min-pass-rate that is not a fraction or a percentage, and a malformed expectation, before asking (exit 2)', async () => {
    const rate = await runCli(['suite', '--spawn', '--min-pass-rate', '150%']);
    assert.equal(rate.code, 2, rate.stdout + rate.stderr);
    assert.match(rate.stderr, /^error: --min-pass-rate must be a fraction from 0 to 1 or a percentage \(got '150%'\)$/m);

    const path = join(dir, 'questions.yaml');
    await writeFile(path, '- id: sessions\n  question: How do sessions work?\n  expect:\n    max_tokens: -5\n');
    const malformed = await runCli(['suite', '--spawn', '--file', path]);
    assert.equal(malformed.code, 2, malformed.stdout + malformed.stderr);
    assert.match(
      malformed.stderr,
      new RegExp(
        `^error: ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4: question "sessions": expect\\.max_tokens must be a positive whole number$`,
        'm',
      ),
    );
    assert.match(malformed.stderr, /^hint: under a question, `expect` holds any of/m);
    assert.doesNotMatch(malformed.stdout, /Asking/);
  });

  it('the built-in questions meet their expectations on /agent with the offline model, tools included', async () => {
    const result = await runCli(['suite', '--spawn', '--json', '--endpoint', 'agent', '--concurrency', '4'], {
      env: { OTEL_MLFLOW_STORE_DIR: join(dir, 'agent-store') },
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const json = JSON.parse(result.stdout) as JsonRun & { evaluation: { scorerMeans: Record<string, number> } };
    assert.equal(json.passed, BUILTIN_QUESTIONS.length);
    assert.deepEqual(json.evaluation.scorerMeans, { answered: 1, mentions: 1, tools: 1, latency: 1, tokens: 1 });
  });

  it('--judge with the built-in offline model is a usage error that says what to configure (exit 2)', async () => {
    const result = await runCli(['suite', '--spawn', '--judge'], { env: { OTEL_MLFLOW_STORE_DIR: join(dir, 'offline-judge-store') } });
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stderr, /^error: --judge needs a real LLM to judge with/m);
    assert.match(result.stderr, /^hint: set OPENAI_API_KEY/m);
    assert.doesNotMatch(result.stdout, /Asking/);
  });

  it('--judge scores correctness and groundedness with the configured model, each judgement a trace named judge', async () => {
    const isJudge = (request: FakeOpenAIRequest) => JSON.stringify(request.body.messages[0]).includes('You grade answers');
    const openai = await startFakeOpenAI({
      script: (request) => {
        if (!isJudge(request)) return { content: 'MLflow takes OTLP/HTTP protobuf at /v1/traces with the x-mlflow-experiment-id header.' };
        const prompt = JSON.stringify(request.body.messages);
        if (prompt.includes('Sources:')) return { content: '{"verdict": "yes", "rationale": "The first source says so."}' };
        const wrong = prompt.includes('Unity Catalog');
        return {
          content: JSON.stringify({
            verdict: wrong ? 'no' : 'yes',
            rationale: wrong ? 'It is about MLflow, not Unity Catalog.' : 'It names the route and header.',
          }),
        };
      },
    });
    const storeDir = join(dir, 'judge-store');
    try {
      const path = join(dir, 'judged.json');
      await writeFile(
        path,
        JSON.stringify([
          { id: 'otlp', question: OTLP_QUESTION },
          { id: 'uc', question: 'How are traces stored in Unity Catalog tables?' },
        ]),
      );
      const result = await runCli(['suite', '--spawn', '--json', '--judge', '--endpoint', 'rag', '--file', path, '--concurrency', '1'], {
        env: { OPENAI_API_KEY: 'sk-test-judge-0123456789', OPENAI_BASE_URL: `${openai.url}/v1`, OTEL_MLFLOW_STORE_DIR: storeDir },
      });
      assert.equal(result.code, 10, result.stdout + result.stderr);
      const json = JSON.parse(result.stdout) as JsonRun;
      const judged = json.results.map((r) =>
        r.evaluation.scores.filter((s) => s.source.type === 'LLM_JUDGE').map((s) => [s.name, s.passed, s.rationale, s.source.id]),
      );
      assert.deepEqual(judged, [
        [
          ['correctness', true, 'It names the route and header.', 'gpt-4o-mini'],
          ['groundedness', true, 'The first source says so.', 'gpt-4o-mini'],
        ],
        [
          ['correctness', false, 'It is about MLflow, not Unity Catalog.', 'gpt-4o-mini'],
          ['groundedness', true, 'The first source says so.', 'gpt-4o-mini'],
        ],
      ]);
      assert.equal(openai.requests.filter(isJudge).length, 4);
      assert.doesNotMatch(result.stdout + result.stderr, /sk-test-judge/);

      const stored = withStore(storeDir, (store) => store.reads.list());
      assert.equal(stored.filter((trace) => trace.rootName === 'judge').length, 4);
      assert.equal(stored.filter((trace) => trace.rootName === 'POST /rag/v1/answer').length, 2);
    } finally {
      await openai.close();
    }
  });
});
