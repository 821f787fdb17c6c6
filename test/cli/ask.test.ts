import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { summarizeTrace } from '../../src/pipeline/store/summarize-trace.ts';
import { withStore } from '../fakes/with-store.ts';
import { startFakeMlflow, type FakeMlflow } from '../fakes/fake-mlflow.ts';
import { startFakeOpenAI } from '../fakes/fake-openai.ts';
import type { StoredTrace } from '../fakes/trace-store.ts';
import { availableDrivers, startTerminal } from '../commands/init/terminal-driver.ts';
import { closedPortUrl } from './closed-port.ts';
import { runCli, type CliResult } from './run-cli.ts';
import { startServe } from './serve-process.ts';

const BIN = fileURLToPath(new URL('../../bin/otel-mlflow.js', import.meta.url));
const QUESTION = 'What is MLflow tracing?';
const TRACE_ID = /Trace (tr-[0-9a-f]{32})/;

/** The parts of `ask --json` the tests read field by field; the rest is compared whole. */
interface AskJson {
  ok: boolean;
  endpoint: string;
  model: string | null;
  sources: unknown[];
  usage: { total_tokens: number };
  traceId: string;
  traceUrl: string | null;
  /** `reason` only when the trace was not exported. */
  export: { exported: number; failed: number; reason?: string };
}

/**
 * The binary with `input` piped on stdin, which runCli cannot do. Synchronous: fine only where the
 * child needs nothing from this process (no fake server).
 */
function runWithStdin(args: string[], input: string, home: string, env: Record<string, string>): CliResult {
  const child = spawnSync(process.execPath, [BIN, ...args], {
    cwd: home,
    env: { PATH: process.env.PATH ?? '', HOME: home, ...env },
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: child.status, stdout: child.stdout, stderr: child.stderr };
}

function traceIdIn(result: CliResult): string {
  const match = TRACE_ID.exec(result.stderr);
  assert.ok(match, `no trace id in:\n${result.stdout}\n${result.stderr}`);
  return match[1]!;
}

function root(trace: StoredTrace) {
  const roots = trace.spans.filter((span) => span.parentSpanId === null);
  assert.equal(roots.length, 1);
  return roots[0]!;
}

describe('otel-mlflow ask', () => {
  let mlflow: FakeMlflow;
  let storeDir: string;
  before(async () => {
    mlflow = await startFakeMlflow({ version: '3.14.1.dev0' });
    storeDir = await mkdtemp(join(tmpdir(), 'otel-mlflow-ask-store-'));
  });
  after(async () => {
    await mlflow.close();
    await rm(storeDir, { recursive: true, force: true });
  });

  for (const [endpoint, spanType] of [
    ['chat', 'CHAIN'],
    ['rag', 'CHAIN'],
    ['agent', 'AGENT'],
  ] as const) {
    it(`--endpoint ${endpoint}: prints the answer, and a trace id and link that exist in MLflow with the expected tree`, async () => {
      const result = await runCli(['ask', '--endpoint', endpoint, QUESTION], { env: { MLFLOW_TRACKING_URI: mlflow.url } });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      const traceId = traceIdIn(result);
      const trace = mlflow.store.getTrace(traceId);
      assert.ok(trace, `${traceId} is in MLflow`);
      assert.equal(trace.info.state, 'OK');
      assert.equal(root(trace).name, `ask ${endpoint}`);
      assert.equal(root(trace).attributes['mlflow.spanType'], spanType);
      assert.ok(
        trace.spans.some((span) => span.name === 'chat otel-mlflow-offline' && span.attributes['mlflow.spanType'] === 'CHAT_MODEL'),
        trace.spans.map((s) => s.name).join(', '),
      );
      // Previews read as the question and the answer, as they do for serve's traces.
      assert.equal(trace.info.request_preview, QUESTION);
      assert.ok(trace.info.response_preview!.length > 20);
      assert.ok(result.stdout.startsWith(trace.info.response_preview!.slice(0, 200)), result.stdout);
      const experimentId = trace.info.trace_location.mlflow_experiment.experiment_id;
      assert.match(result.stderr, new RegExp(`${mlflow.url}/#/experiments/${experimentId}/traces\\?selectedEvaluationId=${traceId}`));
    });
  }

  it('an experiment deleted in MLflow: says how to restore it, and names no flag ask does not have (exit 6)', async () => {
    mlflow.deleteExperiment(mlflow.createExperiment('gone'));
    const result = await runCli(['ask', '--experiment', 'gone', QUESTION], {
      env: { MLFLOW_TRACKING_URI: mlflow.url, OTEL_MLFLOW_STORE_DIR: storeDir },
    });
    assert.equal(result.code, 6, result.stdout + result.stderr);
    assert.match(result.stderr, /^error: experiment 'gone' \(id \d+, from flag --experiment\) is deleted$/m);
    assert.match(
      result.stderr,
      /^hint: restore it \(`mlflow experiments restore --experiment-id \d+`\), or set MLFLOW_EXPERIMENT_NAME_OTEL/m,
    );
    assert.doesNotMatch(result.stderr, /--create-experiment/);
  });

  it('--json prints stable keys: answer, sources, usage, the trace and its export', async () => {
    const result = await runCli(['ask', '--json', '--endpoint', 'rag', QUESTION], { env: { OTEL_MLFLOW_STORE_DIR: storeDir } });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const json = JSON.parse(result.stdout) as AskJson;
    assert.deepEqual(Object.keys(json), ['ok', 'answer', 'endpoint', 'model', 'sources', 'usage', 'traceId', 'traceUrl', 'export']);
    assert.equal(json.ok, true);
    assert.equal(json.endpoint, 'rag');
    assert.equal(json.model, 'otel-mlflow-offline');
    assert.equal(json.sources.length, 3);
    assert.ok(json.usage.total_tokens > 0);
    assert.equal(json.traceUrl, null, 'the local store has no UI link');
    assert.deepEqual(json.export, { exported: 1, failed: 0 });
    assert.ok(withStore(storeDir, (store) => store.reads.get(json.traceId)));
  });

  it('reads the question from stdin when piped, and points at `traces show` for the local store', async () => {
    const home = await mkdtemp(join(tmpdir(), 'otel-mlflow-ask-home-'));
    const result = runWithStdin(['ask'], 'What is OTLP?\n', home, { OTEL_MLFLOW_STORE_DIR: storeDir });
    await rm(home, { recursive: true, force: true });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const traceId = traceIdIn(result);
    assert.match(result.stderr, new RegExp(`otel-mlflow traces show ${traceId}`));
    const stored = withStore(storeDir, (store) => store.reads.get(traceId));
    assert.ok(stored);
    const summary = summarizeTrace(stored);
    assert.equal(summary.rootName, 'ask chat');
    assert.equal(summary.requestPreview, 'What is OTLP?');
    assert.equal(summary.status, 'OK');
  });

  it('takes unquoted words as the question, and keeps stdout for the answer alone (the trace goes to stderr)', async () => {
    const result = await runCli(['ask', 'What', 'is', 'MLflow', 'tracing?'], { env: { OTEL_MLFLOW_STORE_DIR: storeDir } });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const stored = withStore(storeDir, (store) => store.reads.get(traceIdIn(result)));
    assert.ok(stored);
    const summary = summarizeTrace(stored);
    assert.equal(summary.requestPreview, 'What is MLflow tracing?');
    assert.equal(result.stdout, `${summary.responsePreview}\n`);
    assert.doesNotMatch(result.stdout, /tr-[0-9a-f]{32}/);
    assert.doesNotMatch(result.stderr, /waiting for/, 'no spinner off a terminal');
  });

  it('names the cause of an unreachable model provider (refused, DNS) and the LLM to check (exit 4)', async () => {
    const closed = await closedPortUrl();
    const refused = await runCli(['ask', QUESTION], {
      env: {
        OTEL_MLFLOW_STORE_DIR: storeDir,
        OPENAI_API_KEY: 'sk-test-ask-0123456789',
        OPENAI_BASE_URL: `${closed}/v1`,
        OTEL_MLFLOW_LLM_MODEL: 'my-model',
      },
    });
    assert.equal(refused.code, 4, refused.stdout + refused.stderr);
    const host = closed.replace('http://', '');
    assert.match(
      refused.stderr,
      new RegExp(
        `^error: cannot reach the openai model provider at ${closed}/v1: nothing is listening at ${host} \\(connection refused\\)$`,
        'm',
      ),
    );
    assert.match(refused.stderr, new RegExp(`^hint: the LLM is openai my-model at ${closed}/v1: check OPENAI_BASE_URL`, 'm'));
    assert.doesNotMatch(refused.stderr, /sk-test-ask/);

    const verbose = await runCli(['--verbose', 'ask', QUESTION], {
      env: { OTEL_MLFLOW_STORE_DIR: storeDir, OPENAI_API_KEY: 'sk-test-ask-0123456789', OPENAI_BASE_URL: 'http://no-such-host.invalid/v1' },
    });
    assert.equal(verbose.code, 4, verbose.stdout + verbose.stderr);
    assert.match(verbose.stderr, /cannot resolve no-such-host\.invalid \(DNS lookup failed: (ENOTFOUND|EAI_AGAIN)\)/);
    assert.match(verbose.stderr, /^cause: .*(ENOTFOUND|EAI_AGAIN)/m);
  });

  it('refuses a question longer than serve takes, before anything is asked or traced (exit 2)', async () => {
    const home = await mkdtemp(join(tmpdir(), 'otel-mlflow-ask-long-'));
    const result = runWithStdin(['ask'], 'x'.repeat(30_000), home, { OTEL_MLFLOW_STORE_DIR: join(home, 'store') });
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(
      result.stderr,
      /^error: the question has 30000 characters; the agent takes at most 8000 \(serve refuses longer ones too\)$/m,
    );
    assert.doesNotMatch(result.stderr, /Trace tr-/);
    await rm(home, { recursive: true, force: true });
  });

  it('with no question and nothing on stdin exits 2 and says how to ask', async () => {
    const result = await runCli(['ask'], { env: { OTEL_MLFLOW_STORE_DIR: storeDir } });
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stderr, /the question is empty/);
    assert.match(result.stderr, /pipe it on stdin/);
  });

  it('says the trace was not exported, with the reason, when MLflow goes away mid-question (exit 7)', async () => {
    const doomed = await startFakeMlflow({ version: '3.14.1.dev0' });
    const openai = await startFakeOpenAI({
      script: () => {
        void doomed.close();
        return { content: 'An answer nobody will trace.' };
      },
    });
    try {
      const env = { MLFLOW_TRACKING_URI: doomed.url, OPENAI_API_KEY: 'sk-test-ask-0123456789', OPENAI_BASE_URL: `${openai.url}/v1` };
      const human = await runCli(['ask', QUESTION], { env });
      assert.equal(human.code, 7, human.stdout + human.stderr);
      assert.match(human.stdout, /An answer nobody will trace\./);
      const traceId = traceIdIn(human);
      assert.match(
        human.stderr,
        new RegExp(`trace ${traceId} was not exported to MLflow at ${doomed.url}, experiment 'otel-mlflow' \\(id \\d+\\), over OTLP: \\S`),
      );
      assert.match(human.stderr, /ECONNREFUSED|refused|cannot reach/i);
      assert.equal(doomed.store.getTrace(traceId), undefined);
      assert.doesNotMatch(human.stdout + human.stderr, /sk-test-ask/);
    } finally {
      await openai.close();
    }
  });

  it('--json with MLflow gone reports the export failure and its reason (exit 7)', async () => {
    const doomed = await startFakeMlflow({ version: '3.14.1.dev0' });
    const openai = await startFakeOpenAI({
      script: () => {
        void doomed.close();
        return {};
      },
    });
    try {
      const env = { MLFLOW_TRACKING_URI: doomed.url, OPENAI_API_KEY: 'sk-test-ask-0123456789', OPENAI_BASE_URL: `${openai.url}/v1` };
      const result = await runCli(['ask', '--json', QUESTION], { env });
      assert.equal(result.code, 7, result.stdout + result.stderr);
      const json = JSON.parse(result.stdout) as AskJson;
      assert.equal(json.ok, false);
      assert.equal(json.export.exported, 0);
      assert.equal(json.export.failed, 1);
      assert.ok(json.export.reason!.length > 0);
      assert.match(result.stderr, /was not exported/);
    } finally {
      await openai.close();
    }
  });

  it('a failing model provider is one error line (exit 4), and its ERROR trace still reaches MLflow', async () => {
    const openai = await startFakeOpenAI({ script: () => ({ status: 500 }) });
    try {
      const result = await runCli(['ask', QUESTION], {
        env: { MLFLOW_TRACKING_URI: mlflow.url, OPENAI_API_KEY: 'sk-test-ask-0123456789', OPENAI_BASE_URL: `${openai.url}/v1` },
      });
      assert.equal(result.code, 4, result.stdout + result.stderr);
      assert.match(
        result.stderr,
        new RegExp(`^error: the openai model provider at ${openai.url}/v1 answered 500 for model gpt-4o-mini`, 'm'),
      );
      assert.match(
        result.stderr,
        new RegExp(`hint: the LLM is openai gpt-4o-mini at ${openai.url}/v1: check OPENAI_BASE_URL, .*--provider offline`),
      );
      const trace = mlflow.store.getTrace(traceIdIn(result));
      assert.ok(trace);
      assert.equal(trace.info.state, 'ERROR');
    } finally {
      await openai.close();
    }
  });

  it('Ctrl-C while waiting for the model still flushes the trace, marked interrupted (exit 130)', async () => {
    // A model that takes the request and never answers.
    const silent = createServer(() => {});
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const modelAsked = once(silent, 'request');
    const home = await mkdtemp(join(tmpdir(), 'otel-mlflow-ask-home-'));
    const env = { PATH: process.env.PATH ?? '', HOME: home, OTEL_MLFLOW_STORE_DIR: storeDir, OPENAI_API_KEY: 'sk-test-ask-0123456789' };
    const child = spawn(process.execPath, [BIN, 'ask', 'Will you answer?'], {
      cwd: home,
      env: { ...env, OPENAI_BASE_URL: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/v1` },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Killed (and the exit code below wrong) if it hangs on the unanswered model call.
      timeout: 20_000,
    });
    const output: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
    try {
      await modelAsked;
      child.kill('SIGINT');
      const [code] = (await once(child, 'close')) as [number | null];
      const text = Buffer.concat(output).toString();
      assert.equal(code, 130, text);
      assert.match(text, /interrupted/);
      const stored = withStore(storeDir, (store) => store.reads.get(traceIdIn({ code, stdout: '', stderr: text })));
      assert.ok(stored);
      assert.equal(summarizeTrace(stored).status, 'ERROR');
    } finally {
      child.kill('SIGKILL');
      silent.closeAllConnections();
      silent.close();
      await rm(home, { recursive: true, force: true });
    }
  });

  it('--url asks a running server: prints its answer, trace id and link, and the trace is in MLflow', async () => {
    const serve = await startServe([], { MLFLOW_TRACKING_URI: mlflow.url });
    let result: CliResult;
    try {
      result = await runCli(['ask', '--url', serve.url, QUESTION]);
    } finally {
      const stopped = await serve.stop();
      assert.equal(stopped.code, 0, stopped.stdout + stopped.stderr);
    }
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const traceId = traceIdIn(result);
    assert.match(result.stderr, new RegExp(`${mlflow.url}/#/experiments/\\d+/traces\\?selectedEvaluationId=${traceId}`));
    const trace = mlflow.store.getTrace(traceId);
    assert.ok(trace);
    assert.equal(root(trace).name, 'POST /chat');
  });

  it('--url with nothing listening exits 4 and says how to start the server', async () => {
    const result = await runCli(['ask', '--url', await closedPortUrl(), QUESTION]);
    assert.equal(result.code, 4, result.stdout + result.stderr);
    assert.match(result.stderr, /nothing is listening/);
    assert.match(result.stderr, /otel-mlflow serve/);
  });

  it('--url at a server that is not otel-mlflow serve says so, not that its log has the details (exit 4)', async () => {
    // What `python -m http.server` answers to a POST.
    const other = createServer((_req, res) =>
      res.writeHead(501, { 'content-type': 'text/html' }).end('<html><title>Error response</title><p>Unsupported method</p></html>'),
    );
    other.listen(0, '127.0.0.1');
    await once(other, 'listening');
    try {
      const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
      const result = await runCli(['ask', '--url', url, QUESTION]);
      assert.equal(result.code, 4, result.stdout + result.stderr);
      assert.match(
        result.stderr,
        new RegExp(`^error: ${url} answered HTTP 501, which is no answer of otel-mlflow serve \\(no error JSON\\)$`, 'm'),
      );
      assert.match(result.stderr, /^hint: --url must be the address `otel-mlflow serve` prints when it starts/m);
      assert.doesNotMatch(result.stderr, /server log/);
    } finally {
      other.close();
    }
  });
});

const driver = availableDrivers()[0];

describe('otel-mlflow ask at a terminal', {
  skip: driver ? false : 'neither tmux nor python3 (pty) is installed, so no terminal can be driven',
}, () => {
  it('shows a spinner naming the LLM while a slow model has not answered, and Ctrl-C still stops it (exit 130)', async () => {
    const silent = createServer(() => {});
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const baseUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/v1`;
    const home = await mkdtemp(join(tmpdir(), 'otel-mlflow-ask-spinner-'));
    const terminal = await startTerminal(driver!, {
      argv: [process.execPath, BIN, 'ask', 'Are', 'you', 'there?'],
      cwd: home,
      env: {
        PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
        HOME: home,
        TERM: 'xterm-256color',
        OPENAI_API_KEY: 'sk-test-spinner-0123',
        OPENAI_BASE_URL: baseUrl,
      },
    });
    try {
      await terminal.waitFor(`waiting for openai gpt-4o-mini at ${baseUrl}`);
      await terminal.press('CtrlC');
      const end = await terminal.waitFor('[exited with status');
      assert.match(end, /\[exited with status 130\]/);
    } finally {
      await terminal.close();
      silent.closeAllConnections();
      silent.close();
      await rm(home, { recursive: true, force: true });
    }
  });

  for (const mode of ['in this process', 'through a server (--url)'] as const) {
    it(`streams the answer as the model writes it, and Ctrl-C keeps a trace of what was answered (${mode})`, async () => {
      const mlflow = await startFakeMlflow({ version: '3.14.1.dev0' });
      // A role chunk and two pieces of the answer, then nothing until the client goes away.
      const openai = await startFakeOpenAI({
        script: () => ({ content: 'one two three four five six', interrupt: { afterChunks: 3, with: 'stall' } }),
      });
      const home = await mkdtemp(join(tmpdir(), 'otel-mlflow-ask-tty-'));
      const env = { MLFLOW_TRACKING_URI: mlflow.url, OPENAI_API_KEY: 'sk-test-ask-0123456789', OPENAI_BASE_URL: `${openai.url}/v1` };
      const serve = mode === 'in this process' ? undefined : await startServe([], env);
      const terminal = await startTerminal(driver!, {
        argv: [process.execPath, BIN, 'ask', ...(serve ? ['--url', serve.url] : []), 'Stream please'],
        cwd: home,
        env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: home, TERM: 'xterm-256color', ...(!serve && env) },
      });
      try {
        await terminal.waitFor('one two');
        await terminal.press('CtrlC');
        const end = await terminal.waitFor('[exited with status');
        assert.match(end, /\[exited with status 130\]/);
        assert.match(end, /interrupted: the trace keeps what was answered until then/);
        const traceId = /Trace (tr-[0-9a-f]{32})/.exec(end)?.[1];
        assert.ok(traceId, end);
        if (serve) assert.equal((await serve.stop()).code, 0);
        const trace = mlflow.store.getTrace(traceId);
        assert.ok(trace, `${traceId} is in MLflow`);
        assert.equal(trace.info.state, 'ERROR');
        assert.match(JSON.stringify(root(trace).attributes['mlflow.spanOutputs']), /one two/);
        assert.ok(
          trace.spans.some((span) => span.name.startsWith('chat ') && span.endTimeUnixNano > 0n),
          'the model call ended',
        );
      } finally {
        await terminal.close();
        if (serve) await serve.stop();
        await openai.close();
        await mlflow.close();
        await rm(home, { recursive: true, force: true });
      }
    });
  }
});
