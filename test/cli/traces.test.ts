import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { saveSpans, withStore } from '../fakes/with-store.ts';
import { startFakeMlflow, type FakeMlflow } from '../fakes/fake-mlflow.ts';
import { readableSpan } from '../fakes/readable-spans.ts';
import type { StoredTrace } from '../fakes/trace-store.ts';
import { runCli } from './run-cli.ts';
import { startServe } from './serve-process.ts';

const EXPERIMENT = 'pushed-from-local';

interface DoctorTrace {
  traceId: string;
  requestPreview: string | null;
  responsePreview: string | null;
  tokenUsage: { total_tokens?: number } | null;
}

interface PushReport {
  sent: number;
  pending: number;
  failed: number;
  experiment: { id: string; name: string | null; url: string | null } | null;
  traces: { traceId: string; result: string; reason: string | null; url: string | null }[];
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

function tokenTotal(trace: StoredTrace): number | undefined {
  const usage = trace.info.trace_metadata?.['mlflow.trace.tokenUsage'];
  return usage === undefined ? undefined : (JSON.parse(usage) as { total_tokens: number }).total_tokens;
}

describe('otel-mlflow traces, with traces kept by doctor in local-only mode', () => {
  let storeDir: string;
  let doctorTraces: DoctorTrace[];
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { env: { OTEL_MLFLOW_STORE_DIR: storeDir, ...env } });

  before(async () => {
    storeDir = join(await mkdtemp(join(tmpdir(), 'otel-mlflow-traces-')), 'store');
    const doctor = await cli(['doctor', '--json']);
    assert.equal(doctor.code, 0, doctor.stderr + doctor.stdout);
    doctorTraces = (JSON.parse(doctor.stdout) as { traces: DoctorTrace[] }).traces;
    assert.equal(doctorTraces.length, 3);
  });
  after(() => rm(join(storeDir, '..'), { recursive: true, force: true }));

  it('traces list shows time, id, root, status, spans, duration and tokens, readable at 80 columns', async () => {
    const result = await cli(['traces', 'list']);
    assert.equal(result.code, 0, result.stderr);
    const output = lines(result.stdout);
    for (const line of output) assert.ok(line.length <= 80, `wider than 80 columns: ${line}`);
    assert.match(output[0]!, /^TIME\s+TRACE ID\s+ROOT\s+STATUS\s+SPANS\s+DURATION\s+TOKENS$/);
    for (const trace of doctorTraces) {
      const row = output.find((line) => line.includes(trace.traceId.slice(0, 15)));
      assert.ok(row, `${trace.traceId} is listed:\n${result.stdout}`);
      assert.match(row, /^\d\d-\d\d \d\d:\d\d:\d\d {2}tr-[0-9a-f]{12} {2}agent_exec\S*\s+OK\s+4\s+\S+ \S?s\s+(21|23|25)$/);
      assert.ok(row.endsWith(String(trace.tokenUsage?.total_tokens)), row);
    }
    assert.match(result.stdout, /otel-mlflow traces show <id>/);
    assert.match(result.stdout, /otel-mlflow traces push/);
  });

  it('traces list --json is an array of summaries with stable keys, newest first', async () => {
    const result = await cli(['traces', 'list', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const summaries = JSON.parse(result.stdout) as Record<string, unknown>[];
    assert.equal(summaries.length, 3);
    for (const summary of summaries) {
      assert.deepEqual(Object.keys(summary), [
        'traceId',
        'startTime',
        'rootName',
        'status',
        'spanCount',
        'durationMs',
        'tokens',
        'requestPreview',
        'responsePreview',
        'delivery',
      ]);
      assert.deepEqual(summary.delivery, {
        state: 'local',
        destination: null,
        origin: 'doctor',
        attempts: 0,
        lastTryAt: null,
        lastStatus: null,
        lastAnswer: null,
      });
      const sent = doctorTraces.find((t) => t.traceId === summary.traceId)!;
      assert.ok(sent, `${String(summary.traceId)} came from doctor`);
      assert.equal(summary.rootName, 'agent_execution');
      assert.equal(summary.status, 'OK');
      assert.equal(summary.spanCount, 4);
      assert.equal((summary.tokens as { total: number }).total, sent.tokenUsage?.total_tokens);
      assert.equal(summary.requestPreview, sent.requestPreview);
      assert.equal(summary.responsePreview, sent.responsePreview);
    }
    const times = summaries.map((s) => Date.parse(String(s.startTime)));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
    );
    assert.equal((JSON.parse((await cli(['traces', 'list', '--json', '--limit', '1'])).stdout) as unknown[]).length, 1);
  });

  it('traces list with filters that match nothing says so', async () => {
    const result = await cli(['traces', 'list', '--status', 'ERROR']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /No traces in .* match --status ERROR/);
    const bad = await cli(['traces', 'list', '--since', 'yesterday']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /30m, 2h, 7d/);
  });

  it('traces show <prefix> prints the span tree with types, status, durations, tokens, and values cut to 80 columns', async () => {
    const trace = doctorTraces[0]!;
    const result = await cli(['traces', 'show', trace.traceId.slice(0, 10)]);
    assert.equal(result.code, 0, result.stderr);
    const output = lines(result.stdout);
    assert.equal(output[0], `${trace.traceId}  agent_execution`);
    assert.match(output[1]!, /^OK · \d{4}-\d\d-\d\d \d\d:\d\d:\d\d · \S+ \S?s · 4 spans · 21 tokens \(12 in, 9 out\)$/);
    assert.match(output[2]!, /^kept locally \(no destination was configured\)/);
    const heads = output.filter((line) => !/^\W*(in|out):/.test(line)).slice(3);
    assert.match(heads[0]!, /^agent_execution {2}AGENT {2}OK {2}\S+ \S?s$/);
    assert.match(heads[1]!, /^├─ preprocess {2}PARSER {2}OK {2}\S+ \S?s$/);
    assert.match(heads[2]!, /^├─ llm_call {2}LLM {2}OK {2}\S+ \S?s {2}21 tokens \(12 in, 9 out\)$/);
    assert.match(heads[3]!, /^└─ postprocess {2}CHAIN {2}OK {2}\S+ \S?s$/);
    for (const line of output) assert.ok(line.length <= 80, `wider than 80 columns: ${line}`);
    assert.ok(
      output.some((line) => /^│\s+in:\s+\{"messages":.*…$/.test(line)),
      'inputs shown, cut',
    );
    assert.ok(
      output.some((line) => /^\s+out:\s+\{"answer":"Test answer 1 from otel-mlflow doctor/.test(line)),
      'outputs shown',
    );
  });

  it('traces show --full prints inputs and outputs whole', async () => {
    const result = await cli(['traces', 'show', doctorTraces[0]!.traceId, '--full']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /"content": "You are the otel-mlflow doctor test agent\."/);
    assert.match(result.stdout, /"content": "What is MLflow tracing\?"/);
    assert.doesNotMatch(result.stdout, /…/);
  });

  it('traces show --json prints the stored trace and its tree', async () => {
    const trace = doctorTraces[1]!;
    const result = await cli(['traces', 'show', trace.traceId, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const shown = JSON.parse(result.stdout) as {
      traceId: string;
      savedAt: string;
      spans: { spanId: string; startTimeUnixNano: string }[];
      summary: { status: string; tokens: { total: number } };
      tree: {
        name: string;
        spanType: string;
        status: string;
        tokens: unknown;
        children: { name: string; spanType: string; tokens: { total: number } | null }[];
      }[];
    };
    assert.equal(shown.traceId, trace.traceId);
    assert.equal(shown.spans.length, 4);
    assert.match(shown.spans[0]!.startTimeUnixNano, /^\d{19}$/);
    assert.equal(shown.summary.tokens.total, trace.tokenUsage?.total_tokens);
    assert.equal(shown.tree.length, 1);
    assert.equal(shown.tree[0]!.name, 'agent_execution');
    assert.deepEqual(
      shown.tree[0]!.children.map((c) => [c.name, c.spanType]),
      [
        ['preprocess', 'PARSER'],
        ['llm_call', 'LLM'],
        ['postprocess', 'CHAIN'],
      ],
    );
    assert.equal(shown.tree[0]!.children[1]!.tokens?.total, trace.tokenUsage?.total_tokens);
  });

  it('traces show with an unknown id is a usage error that points to traces list', async () => {
    const result = await cli(['traces', 'show', 'tr-ffffffffffff']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /no stored trace matches 'tr-ffffffffffff'/);
    assert.match(result.stderr, /otel-mlflow traces list/);
  });

  it('a --store-dir that does not exist is refused as the typo it likely is, and not created', async () => {
    const typo = `${storeDir}-typo`;
    for (const args of [
      ['traces', 'list'],
      ['traces', 'show', 'tr-ffff'],
      ['traces', 'prune'],
      ['traces', 'push'],
    ]) {
      const result = await runCli([...args, '--store-dir', typo]);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}${result.stdout}`);
      assert.match(
        result.stderr,
        new RegExp(`^error: there is no trace store at ${typo.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(from flag --store-dir\\)$`, 'm'),
      );
    }
    await assert.rejects(stat(typo), { code: 'ENOENT' });
  });

  it('traces push with no MLflow configured is a config error that says to set MLFLOW_TRACKING_URI', async () => {
    const result = await cli(['traces', 'push']);
    assert.equal(result.code, 3, result.stderr + result.stdout);
    assert.match(result.stderr, /no MLflow is configured/);
    assert.match(result.stderr, /MLFLOW_TRACKING_URI/);
  });

  for (const backend of ['sql', 'file'] as const) {
    describe(`traces push to MLflow (${backend === 'sql' ? 'OTLP' : 'REST, file store'})`, () => {
      let server: FakeMlflow;
      before(async () => {
        server = await startFakeMlflow({ version: '3.14.1.dev0', backend });
      });
      after(() => server.close());
      const push = (args: string[] = []) =>
        cli(['traces', 'push', ...args], { MLFLOW_TRACKING_URI: server.url, MLFLOW_EXPERIMENT_NAME_OTEL: EXPERIMENT });

      it("leaves doctor's test traces out unless asked, and says so", async () => {
        const result = await push(backend === 'sql' ? [] : ['--all']);
        assert.equal(result.code, 0, result.stderr + result.stdout);
        assert.match(result.stdout, /Nothing to push/);
        assert.match(result.stdout, /3 test traces of `otel-mlflow doctor` left out: .*--include-doctor/);
        assert.equal(server.store.traces().length, 0);
      });

      it('sends every stored trace with its spans, token totals and previews, keeping the ids', async () => {
        // After the OTLP push they were delivered there: a push to another server takes --all.
        const result = await push(['--json', '--include-doctor', ...(backend === 'sql' ? [] : ['--all'])]);
        assert.equal(result.code, 0, result.stderr + result.stdout);
        const report = JSON.parse(result.stdout) as PushReport;
        assert.deepEqual([report.sent, report.pending, report.failed], [3, 0, 0]);
        const experiment = server.store.experimentByName(EXPERIMENT);
        assert.ok(experiment, 'the experiment was created');
        assert.equal(report.experiment?.id, experiment.experimentId);
        for (const sent of doctorTraces) {
          const pushed = report.traces.find((t) => t.traceId === sent.traceId);
          assert.equal(pushed?.result, 'sent');
          assert.ok(
            pushed.url?.includes(`/#/experiments/${experiment.experimentId}/traces?selectedEvaluationId=${sent.traceId}`),
            pushed.url ?? 'no url',
          );
          const stored = server.store.getTrace(sent.traceId);
          assert.ok(stored, `${sent.traceId} is in MLflow under the same id`);
          assert.equal(stored.loggedVia, backend === 'sql' ? 'otlp' : 'rest');
          assert.equal(stored.info.trace_location.mlflow_experiment.experiment_id, experiment.experimentId);
          assert.equal(stored.info.state, 'OK');
          assert.deepEqual(stored.spans.map((s) => s.name).sort(), ['agent_execution', 'llm_call', 'postprocess', 'preprocess']);
          assert.equal(tokenTotal(stored), sent.tokenUsage?.total_tokens);
          assert.equal(stored.info.request_preview, sent.requestPreview);
          assert.equal(stored.info.response_preview, sent.responsePreview);
        }
      });

      it('a second push finds nothing left to send and changes nothing in MLflow', async () => {
        const before = new Map(server.store.traces().map((t) => [t.info.trace_id, { spans: t.spans.length, tokens: tokenTotal(t) }]));
        const writes = server.requests.filter((r) => r.method !== 'GET').length;
        const result = await push(['--include-doctor', '--all']);
        assert.equal(result.code, 0, result.stderr + result.stdout);
        assert.match(result.stdout, /Nothing to push/);
        const afterPush = new Map(server.store.traces().map((t) => [t.info.trace_id, { spans: t.spans.length, tokens: tokenTotal(t) }]));
        assert.deepEqual(afterPush, before, 'span counts and token totals unchanged');
        assert.equal(server.requests.filter((r) => r.method !== 'GET').length, writes, 'nothing was sent again');
        const listed = await cli(['traces', 'list', '--status', 'delivered', '--json']);
        assert.equal((JSON.parse(listed.stdout) as unknown[]).length, 3);
      });
    });
  }

  it("traces push reports a trace MLflow refuses as failed, with the server's reason, and exits 7", async () => {
    const dir = join(storeDir, '..', 'refused');
    const good = readableSpan({ traceId: 'a'.repeat(32), spanId: 'a'.repeat(16), name: 'good', statusCode: 1 });
    // MLflow 3.11+ refuses a span without an id.
    const bad = readableSpan({ traceId: 'b'.repeat(32), spanId: '0'.repeat(16), name: 'bad', statusCode: 1 });
    withStore(dir, (store) => {
      saveSpans(store, [good]);
      saveSpans(store, [bad]);
    });
    const server = await startFakeMlflow({ version: '3.14.1.dev0' });
    try {
      const env = { OTEL_MLFLOW_STORE_DIR: dir, MLFLOW_TRACKING_URI: server.url };
      const result = await runCli(['traces', 'push', '--json'], { env });
      assert.equal(result.code, 7, result.stderr + result.stdout);
      const report = JSON.parse(result.stdout) as PushReport;
      assert.deepEqual([report.sent, report.pending, report.failed], [1, 0, 1]);
      const failed = report.traces.find((t) => t.result === 'failed')!;
      assert.equal(failed.traceId, `tr-${'b'.repeat(32)}`);
      assert.match(failed.reason ?? '', /HTTP 422.*Cannot convert OpenTelemetry span/);
      assert.equal(failed.url, null);

      const again = await runCli(['traces', 'push'], { env });
      assert.equal(again.code, 0, again.stderr + again.stdout);
      assert.match(again.stdout, /1 trace were refused before: add --dead/);
      const human = await runCli(['traces', 'push', '--dead'], { env });
      assert.equal(human.code, 7);
      assert.match(human.stdout, new RegExp(`HTTP 422.*Cannot convert OpenTelemetry span.*: tr-${'b'.repeat(32)}`));
      assert.match(human.stdout, /0 sent, 0 still pending, 1 refused\./);
      const listed = await runCli(['traces', 'list', '--status', 'dead', '--json'], { env });
      assert.deepEqual(
        (JSON.parse(listed.stdout) as { traceId: string }[]).map((t) => t.traceId),
        [`tr-${'b'.repeat(32)}`],
      );
    } finally {
      await server.close();
    }
  });

  it('traces prune --older-than 0m deletes the delivered traces, after a dry run that deletes nothing', async () => {
    const dry = await cli(['traces', 'prune', '--older-than', '0m', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /Would delete 3 delivered traces/);
    const result = await cli(['traces', 'prune', '--older-than', '0m']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Deleted 3 delivered traces/);
    const empty = await cli(['traces', 'list']);
    assert.equal(empty.code, 0);
    assert.match(empty.stdout, new RegExp(`No traces in ${storeDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(empty.stdout, /otel-mlflow ask/);
  });
});

describe('otel-mlflow serve in local-only mode', () => {
  it('keeps each request trace in the store, and traces show prints its tree', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'otel-mlflow-serve-store-'));
    try {
      const serve = await startServe([], { OTEL_MLFLOW_STORE_DIR: dir });
      let traceId: string;
      try {
        const response = await fetch(`${serve.url}/chat`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"query":"What is MLflow tracing?"}',
        });
        assert.equal(response.status, 200);
        traceId = ((await response.json()) as { trace_id: string }).trace_id;
      } finally {
        const stopped = await serve.stop();
        assert.equal(stopped.code, 0, stopped.stdout + stopped.stderr);
        assert.match(stopped.stdout, new RegExp(`local store ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      }
      const shown = await runCli(['traces', 'show', traceId], { env: { OTEL_MLFLOW_STORE_DIR: dir } });
      assert.equal(shown.code, 0, shown.stderr);
      const output = lines(shown.stdout);
      assert.equal(output[0], `${traceId}  POST /chat`);
      assert.match(output[1]!, /^OK · .* · 2 spans · \d+ tokens/);
      assert.ok(
        output.some((line) => /^POST \/chat {2}CHAIN {2}(OK|UNSET) {2}/.test(line)),
        shown.stdout,
      );
      assert.ok(
        output.some((line) => /^└─ chat otel-mlflow-offline {2}CHAT_MODEL {2}(OK|UNSET) {2}.* tokens \(\d+ in, \d+ out\)$/.test(line)),
        shown.stdout,
      );
      assert.ok(
        output.some((line) => /in:\s+.*What is MLflow tracing\?/.test(line)),
        shown.stdout,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a first run with nothing configured, pushed to MLflow later', () => {
  it('ask keeps its trace locally, traces show prints the tree, and traces push puts it into the MLflow experiment', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'otel-mlflow-ask-store-'));
    const server = await startFakeMlflow({ version: '3.14.1.dev0' });
    try {
      const asked = await runCli(['ask', '--json', 'What is MLflow tracing?'], { env: { OTEL_MLFLOW_STORE_DIR: dir } });
      assert.equal(asked.code, 0, asked.stderr + asked.stdout);
      const { traceId, answer } = JSON.parse(asked.stdout) as { traceId: string; answer: string };
      assert.match(answer, /\S/);

      const shown = await runCli(['traces', 'show', traceId], { env: { OTEL_MLFLOW_STORE_DIR: dir } });
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, /^ask chat {2}CHAIN /m);
      assert.match(shown.stdout, /└─ chat otel-mlflow-offline {2}CHAT_MODEL /);

      const pushed = await runCli(['traces', 'push', '--json'], {
        env: { OTEL_MLFLOW_STORE_DIR: dir, MLFLOW_TRACKING_URI: server.url, MLFLOW_EXPERIMENT_NAME: EXPERIMENT },
      });
      assert.equal(pushed.code, 0, pushed.stderr + pushed.stdout);
      assert.equal((JSON.parse(pushed.stdout) as PushReport).sent, 1);
      const stored = server.store.getTrace(traceId);
      assert.ok(stored, 'the pushed trace is in MLflow under the same id');
      assert.equal(stored.info.request_preview, 'What is MLflow tracing?');
      assert.deepEqual(stored.spans.map((s) => s.name).sort(), ['ask chat', 'chat otel-mlflow-offline']);
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('otel-mlflow traces, on a store an older version left', () => {
  it('opens it with require() of ES modules switched off in NODE_OPTIONS, as `run` passes a program’s on', async () => {
    const storeDir = await mkdtemp(join(tmpdir(), 'otel-mlflow-old-store-'));
    try {
      // Spans kept as JSON (store version 3): opening the store encodes them as they are now kept.
      await copyFile(new URL('../pipeline/golden/store-version-3.db', import.meta.url), join(storeDir, 'traces.db'));
      const listed = await runCli(['traces', 'list', '--json'], {
        env: { OTEL_MLFLOW_STORE_DIR: storeDir, NODE_OPTIONS: '--no-experimental-require-module' },
      });
      assert.equal(listed.code, 0, listed.stderr);
      const traces = JSON.parse(listed.stdout) as { traceId: string; delivery: { state: string } }[];
      assert.ok(traces.length > 0, 'its traces are listed');
      assert.ok(
        traces.every((trace) => trace.delivery.state === 'pending'),
        'still waiting to be sent',
      );
    } finally {
      await rm(storeDir, { recursive: true, force: true });
    }
  });
});
