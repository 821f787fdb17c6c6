import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { withStore } from '../fakes/with-store.ts';
import { BUILTIN_QUESTIONS } from '../../src/commands/suite/builtin-questions.ts';
import { startFakeMlflow } from '../fakes/fake-mlflow.ts';
import { startFakeOpenAI } from '../fakes/fake-openai.ts';
import { closedPortUrl } from './closed-port.ts';
import { runCli, type CliResult } from './run-cli.ts';
import { startServe } from './serve-process.ts';

const RESULT_KEYS = [
  'index',
  'id',
  'question',
  'status',
  'httpStatus',
  'latencyMs',
  'tokens',
  'traceId',
  'traceUrl',
  'answerPreview',
  'answer',
  'sources',
  'tools',
  'evaluation',
];
const SCORE_KEYS = ['name', 'value', 'passed', 'rationale', 'source'];

/** The parts of `suite --json` the tests read field by field; the rest is compared whole. */
interface SuiteJson {
  ok: boolean;
  endpoint: string;
  total: number;
  latencyMs: { p50: number; p95: number };
  tokens: number;
  results: {
    index: number;
    status: string;
    tokens: number;
    traceId: string;
    answer: string;
    answerPreview: string;
    sources: object[];
    tools: unknown;
    evaluation: { passed: boolean; scores: { name: string; source: unknown }[] };
  }[];
  evaluation: unknown;
  verify: { source: string; found: number };
  export: { store: string };
}

function assertFitsIn80Columns(output: string): void {
  for (const line of output.split('\n')) assert.ok(line.length <= 80, `${line.length} columns: ${line}`);
}

describe('otel-mlflow suite', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'otel-mlflow-suite-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('against a running serve with --verify: every trace is found in MLflow, grouped as one session (exit 0)', async () => {
    // 3.11 would store the session JSON-quoted from the spans alone: the session must still be plain and findable.
    const mlflow = await startFakeMlflow({ version: '3.11.1' });
    const serve = await startServe([], { MLFLOW_TRACKING_URI: mlflow.url });
    try {
      const result = await runCli(['suite', '--url', serve.url, '--verify', '--concurrency', '4', '--session', 'suite-run-1'], {
        env: { MLFLOW_TRACKING_URI: mlflow.url },
      });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      const total = BUILTIN_QUESTIONS.length;
      assert.match(result.stdout, new RegExp(`${total} questions: ${total} passed, 0 failed`));
      assert.match(result.stdout, new RegExp(`read back: ${total} of ${total} traces found in MLflow`));
      const experiment = [...mlflow.store.experiments.values()].find((e) => e.name === 'otel-mlflow')!;
      assert.match(result.stdout, new RegExp(`Experiment: ${mlflow.url}/#/experiments/${experiment.experimentId}\\n$`));
      assertFitsIn80Columns(result.stdout);

      const traces = mlflow.store.traces(experiment.experimentId);
      assert.equal(traces.length, total);
      for (const trace of traces) assert.equal(trace.info.trace_metadata?.['mlflow.trace.session'], 'suite-run-1');
      const search = await fetch(`${mlflow.url}/api/3.0/mlflow/traces/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experiment.experimentId } }],
          filter: "metadata.`mlflow.trace.session` = 'suite-run-1'",
        }),
      });
      assert.equal(((await search.json()) as { traces?: unknown[] }).traces?.length, total);
    } finally {
      await serve.stop();
      await mlflow.close();
    }
  });

  it('--spawn with nothing configured: the offline model answers, one trace per question in the local store, and says how to look and push', async () => {
    const storeDir = join(dir, 'spawn-store');
    const result = await runCli(['suite', '--spawn', '--concurrency', '4', '--repeat', '2'], { env: { OTEL_MLFLOW_STORE_DIR: storeDir } });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const total = BUILTIN_QUESTIONS.length * 2;
    assert.match(result.stdout, new RegExp(`^Asking ${BUILTIN_QUESTIONS.length} questions × 2 at `, 'm'));
    assert.match(result.stdout, new RegExp(`${total} requests \\(${BUILTIN_QUESTIONS.length} questions × 2\\): ${total} passed, 0 failed`));
    assert.match(
      result.stdout,
      /^pass rate 100%, meets the bar of 100%\nmean scores: answered 1\.00, mentions 1\.00, latency 1\.00, tokens 1\.00\n/m,
    );
    assert.match(result.stdout, /latency p50 [\d.]+ m?s, p95 [\d.]+ m?s; [\d,]+ tokens/);
    assert.match(result.stdout, new RegExp(`Traces are in the local store ${storeDir}`));
    assert.match(result.stdout, /otel-mlflow traces list/);
    assert.match(result.stdout, /otel-mlflow traces show <id>/);
    assert.match(result.stdout, /set MLFLOW_TRACKING_URI, then otel-mlflow traces push\n$/);
    assert.match(result.stderr, /offline model/);
    assertFitsIn80Columns(result.stdout);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC [ starts every colour and cursor code, which must be absent here
    assert.doesNotMatch(result.stdout, /\u001b\[/, 'no colour or spinner off a terminal');

    const stored = withStore(storeDir, (store) => store.reads.list());
    assert.equal(stored.length, total);
    assert.ok(stored.every((trace) => trace.rootName === 'POST /chat' && trace.status === 'OK'));
  });

  it('--verify against a serve started with --store-dir reads the traces back from that store, and names it (exit 0)', async () => {
    const storeDir = join(dir, 'serve-own-store');
    const questions = join(dir, 'two.txt');
    await writeFile(questions, 'What is MLflow?\nWhat is OTLP?\n');
    const serve = await startServe(['--store-dir', storeDir]);
    try {
      const result = await runCli(['suite', '--url', serve.url, '--verify', '--file', questions], {
        env: { OTEL_MLFLOW_STORE_DIR: join(dir, 'suite-default-store') },
      });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(
        result.stdout,
        new RegExp(`read back: 2 of 2 traces found in the local store ${storeDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
      );
    } finally {
      await serve.stop();
    }
  });

  it('against a server that wants a token: stops at the first 401, says which token to set, and exits 5', async () => {
    const serve = await startServe(['--auth-token', 'suite-token-0123456789']);
    let result: CliResult;
    try {
      result = await runCli(['suite', '--url', serve.url, '--concurrency', '1']);
    } finally {
      await serve.stop();
    }
    assert.equal(result.code, 5, result.stdout + result.stderr);
    assert.match(result.stderr, new RegExp(`^error: ${serve.url} refused the request: HTTP 401 unauthorized: `, 'm'));
    assert.match(result.stderr, /^hint: set OTEL_MLFLOW_AUTH_TOKEN .*--auth-token/m);
    assert.equal(serve.output().match(/POST \/chat 401/g)?.length, 1, 'no question is asked after the first 401');

    const withToken = await startServe(['--auth-token', 'suite-token-0123456789']);
    try {
      const questions = join(dir, 'one.txt');
      await writeFile(questions, 'What is MLflow?\n');
      const allowed = await runCli(['suite', '--url', withToken.url, '--file', questions, '--auth-token', 'suite-token-0123456789']);
      assert.equal(allowed.code, 0, allowed.stdout + allowed.stderr);
    } finally {
      await withToken.stop();
    }
  });

  it('with the server down exits 4 and says how to start it', async () => {
    const url = await closedPortUrl();
    const result = await runCli(['suite', '--url', url]);
    assert.equal(result.code, 4, result.stdout + result.stderr);
    assert.match(result.stderr, new RegExp(`error: the server at ${url} is not up: nothing is listening`));
    assert.match(result.stderr, /hint: start it with `otel-mlflow serve` in another terminal .*--spawn/);
  });

  it('refuses a --url that is not an http(s) address (exit 2)', async () => {
    const result = await runCli(['suite', '--url', 'localhost:8000']);
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stderr, /--url must be an http:\/\/ or https:\/\/ address \(got 'localhost:8000'\)/);
  });

  it('--file reads JSON, YAML and one question per line', async () => {
    const files = {
      'questions.json': JSON.stringify(['What is MLflow?', { query: 'What is OTLP?', id: 'otlp' }]),
      'questions.yaml': '- What is MLflow?\n- question: What is OTLP?\n  id: otlp\n',
      'questions.txt': '# two questions\nWhat is MLflow?\n\nWhat is OTLP?\n',
    };
    const runs = Object.entries(files).map(async ([name, text]) => {
      const path = join(dir, name);
      await writeFile(path, text);
      const result = await runCli(['suite', '--spawn', '--json', '--file', path], {
        env: { OTEL_MLFLOW_STORE_DIR: join(dir, `store-${name}`) },
      });
      assert.equal(result.code, 0, `${name}: ${result.stdout}${result.stderr}`);
      const json = JSON.parse(result.stdout) as { results: { question: string; id: string | null }[] };
      return json.results.map((r) => [r.question, r.id]);
    });
    const [json, yaml, text] = await Promise.all(runs);
    assert.deepEqual(json, [
      ['What is MLflow?', null],
      ['What is OTLP?', 'otlp'],
    ]);
    assert.deepEqual(yaml, json);
    assert.deepEqual(text, [
      ['What is MLflow?', null],
      ['What is OTLP?', null],
    ]);
  });

  it('a malformed --file is refused with its name and line (exit 2)', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(path, '[\n  "What is MLflow?",\n  {"answer": 42}\n]\n');
    const result = await runCli(['suite', '--spawn', '--file', path]);
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stderr, new RegExp(`error: ${path}:3: item 2 is not a question`));
  });

  it('--json prints one object with stable keys, and --output writes the same results as NDJSON lines', async () => {
    const output = join(dir, 'results.ndjson');
    const result = await runCli(['suite', '--spawn', '--json', '--verify', '--endpoint', 'rag', '--concurrency', '4', '--output', output], {
      env: { OTEL_MLFLOW_STORE_DIR: join(dir, 'json-store') },
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const json = JSON.parse(result.stdout) as SuiteJson;
    assert.deepEqual(Object.keys(json), [
      'ok',
      'url',
      'endpoint',
      'total',
      'passed',
      'failed',
      'latencyMs',
      'tokens',
      'results',
      'evaluation',
      'verify',
      'export',
      'mlflowRun',
    ]);
    assert.deepEqual(json.evaluation, {
      passRate: 1,
      minPassRate: 1,
      passed: BUILTIN_QUESTIONS.length,
      total: BUILTIN_QUESTIONS.length,
      scorerMeans: { answered: 1, mentions: 1, cites: 1, latency: 1, tokens: 1 },
    });
    assert.equal(json.ok, true);
    assert.equal(json.endpoint, 'rag');
    assert.equal(json.total, BUILTIN_QUESTIONS.length);
    assert.deepEqual(Object.keys(json.latencyMs), ['p50', 'p95']);
    assert.ok(json.latencyMs.p50 <= json.latencyMs.p95);
    assert.equal(
      json.tokens,
      json.results.reduce((sum: number, r: { tokens: number }) => sum + r.tokens, 0),
    );
    for (const r of json.results) {
      assert.deepEqual(Object.keys(r), RESULT_KEYS);
      assert.equal(r.status, 'ok');
      assert.match(r.traceId, /^tr-[0-9a-f]{32}$/);
      assert.ok(r.answer.startsWith(r.answerPreview.replace(/…$/, '')));
      assert.ok(r.sources.length > 0 && r.sources.every((s: object) => Object.keys(s).join() === 'id,title'));
      assert.equal(r.tools, null);
      assert.deepEqual(Object.keys(r.evaluation), ['passed', 'scores']);
      assert.equal(r.evaluation.passed, true, JSON.stringify(r.evaluation));
      assert.deepEqual(
        r.evaluation.scores.map((score: { name: string }) => score.name),
        ['answered', 'mentions', 'cites', 'latency', 'tokens'],
      );
      for (const score of r.evaluation.scores) {
        assert.deepEqual(Object.keys(score), SCORE_KEYS);
        assert.deepEqual(score.source, { type: 'CODE', id: `otel-mlflow/${score.name}` });
      }
    }
    assert.deepEqual(
      json.results.map((r: { index: number }) => r.index),
      BUILTIN_QUESTIONS.map((_, i) => i + 1),
    );
    assert.equal(json.verify.source, 'local');
    assert.equal(json.verify.found, BUILTIN_QUESTIONS.length);
    assert.deepEqual(json.export, { exported: BUILTIN_QUESTIONS.length, pending: 0, failed: 0, reasons: [], store: json.export.store });
    assert.match(json.export.store, /json-store$/);

    const lines = (await readFile(output, 'utf8')).split('\n');
    assert.equal(lines.pop(), '', 'every line ends with a newline');
    assert.deepEqual(JSON.parse(lines.pop()!), { evaluation: json.evaluation }, 'the last line holds the totals');
    const written = lines.map((line) => JSON.parse(line) as { index: number });
    assert.equal(written.length, BUILTIN_QUESTIONS.length);
    assert.deepEqual(
      [...written].sort((a, b) => a.index - b.index),
      json.results,
    );
  });

  it('a question the model provider fails exits 10, and the summary shows which and why', async () => {
    const openai = await startFakeOpenAI({
      script: (request) => (JSON.stringify(request.body.messages).includes('please fail') ? { status: 500 } : { content: 'Fine.' }),
    });
    try {
      const path = join(dir, 'failing.txt');
      await writeFile(path, 'What is MLflow?\nplease fail now\nWhat is OTLP?\n');
      const result = await runCli(['suite', '--spawn', '--file', path, '--concurrency', '3'], {
        env: {
          OPENAI_API_KEY: 'sk-test-suite-0123456789',
          OPENAI_BASE_URL: `${openai.url}/v1`,
          OTEL_MLFLOW_STORE_DIR: join(dir, 'failing-store'),
        },
      });
      assert.equal(result.code, 10, result.stdout + result.stderr);
      assert.match(result.stdout, /^2 {2}please fail now +failed /m);
      assert.match(
        result.stdout.replace(/\n {4}/g, ' '),
        /^#2 failed: HTTP 502 llm_error: the openai model provider at http:\/\/127\.0\.0\.1:\d+\/v1 answered 500/m,
      );
      assert.match(result.stdout, /3 questions: 2 passed, 1 failed/);
      assertFitsIn80Columns(result.stdout);
      assert.doesNotMatch(result.stdout + result.stderr, /sk-test-suite/);
    } finally {
      await openai.close();
    }
  });

  it('a model provider it cannot reach stops the run at the first question: one message, exit 4', async () => {
    const storeDir = join(dir, 'unreachable-llm-store');
    const result = await runCli(['suite', '--spawn', '--concurrency', '1'], {
      env: { OPENAI_API_KEY: 'sk-test-suite-0123456789', OPENAI_BASE_URL: `${await closedPortUrl()}/v1`, OTEL_MLFLOW_STORE_DIR: storeDir },
    });
    assert.equal(result.code, 4, result.stdout + result.stderr);
    assert.match(
      result.stderr,
      /^error: cannot reach the openai model provider at http:\/\/127\.0\.0\.1:\d+\/v1: nothing is listening at 127\.0\.0\.1:\d+ \(connection refused\)$/m,
    );
    assert.match(result.stderr, /^hint: the LLM is openai gpt-4o-mini: check OPENAI_BASE_URL .*--provider offline$/m);
    assert.equal(result.stderr.match(/cannot reach/g)?.length, 1, 'said once');
    assert.doesNotMatch(result.stdout, /failed|Traces went to/);
    assert.equal(
      withStore(storeDir, (store) => store.reads.list().length),
      1,
      'no question is asked after the first that could not reach the model',
    );
  });

  it('with a destination that does not answer, says the traces wait for it, not that they went there', async () => {
    const path = join(dir, 'one-question.txt');
    await writeFile(path, 'What is MLflow?\n');
    const result = await runCli(['suite', '--spawn', '--file', path], {
      env: { MLFLOW_TRACKING_URI: await closedPortUrl(), OTEL_MLFLOW_STORE_DIR: join(dir, 'unreachable-mlflow-store') },
    });
    assert.equal(result.code, 7, result.stdout + result.stderr);
    assert.doesNotMatch(result.stdout, /Traces went to/);
    assert.match(
      result.stdout,
      /^Traces are meant for MLflow at http:\/\/127\.0\.0\.1:\d+.*;\n {2}they wait in the local store until it answers: otel-mlflow traces push sends them$/m,
    );
  });

  it('a --tolerance without --compare, or one it cannot read, is refused before any question (exit 2)', async () => {
    const without = await runCli(['suite', '--spawn', '--tolerance', 'score=0.1']);
    assert.equal(without.code, 2, without.stdout + without.stderr);
    assert.match(without.stderr, /^error: --tolerance says how much worse --compare allows, and there is no --compare$/m);
    const garbage = await runCli(['suite', '--spawn', '--tolerance', 'garbage']);
    assert.equal(garbage.code, 2, garbage.stdout + garbage.stderr);
    assert.match(garbage.stderr, /^error: --tolerance: 'garbage' is not key=value$/m);
    assert.doesNotMatch(without.stdout + garbage.stdout, /Asking/);
  });

  it('--session with another endpoint than chat is refused (exit 2)', async () => {
    const result = await runCli(['suite', '--spawn', '--endpoint', 'agent', '--session', 's1']);
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stderr, /--session groups \/chat requests/);
  });
});
