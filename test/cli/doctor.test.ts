import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { MLFLOW_VERSIONS, startFakeMlflow, type FakeMlflow } from '../fakes/fake-mlflow.ts';
import { startFaultyProxy, type FaultyProxy, type ProxyMode } from '../fakes/faulty-proxy.ts';
import { availableDrivers, startTerminal } from '../commands/init/terminal-driver.ts';
import { closedPortUrl } from './closed-port.ts';
import { withStore } from '../fakes/with-store.ts';
import { runCli } from './run-cli.ts';

const EXPERIMENT = 'doctor-e2e';

function doctorJson(stdout: string) {
  return JSON.parse(stdout) as {
    ok: boolean;
    exitCode: number;
    exportRoute: string | null;
    serverVersion: string | null;
    checks: { id: string; status: string; detail: string; hint: string | null }[];
    traces: {
      traceId: string;
      found: boolean;
      state: string | null;
      spans: string[];
      spanTypes: Record<string, string>;
      tokenUsage: { total_tokens?: number } | null;
      url: string | null;
      problems: string[];
    }[];
  };
}

function check(report: ReturnType<typeof doctorJson>, id: string) {
  return report.checks.find((c) => c.id === id)!;
}

describe('otel-mlflow doctor against every MLflow version', () => {
  for (const version of MLFLOW_VERSIONS) {
    describe(`MLflow ${version}`, () => {
      let server: FakeMlflow;
      before(async () => {
        server = await startFakeMlflow({ version });
      });
      after(() => server.close());

      it('exits 0, and the traces it reports are stored with span types, token usage and previews', async () => {
        const result = await runCli(['doctor', '--json', '--create-experiment', '--timeout', '10'], {
          env: { MLFLOW_TRACKING_URI: server.url, MLFLOW_EXPERIMENT_NAME_BASIC: EXPERIMENT },
        });
        assert.equal(result.code, 0, result.stderr + result.stdout);
        const report = doctorJson(result.stdout);
        assert.equal(report.ok, true);
        assert.equal(report.serverVersion, version);
        assert.equal(report.exportRoute, 'otlp');
        assert.equal(report.traces.length, 3);
        assert.equal(report.checks.find((c) => c.id === 'read-back')!.status, 'ok', 'token totals and readable previews on every version');
        const experimentId = [...server.store.experiments.values()].find((e) => e.name === EXPERIMENT)!.experimentId;
        for (const trace of report.traces) {
          assert.equal(trace.state, 'OK');
          assert.deepEqual([...trace.spans].sort(), ['agent_execution', 'llm_call', 'postprocess', 'preprocess']);
          assert.ok(trace.url?.includes(`/#/experiments/${experimentId}/traces`), trace.url ?? 'no url');
          const stored = server.store.getTrace(trace.traceId);
          assert.ok(stored, `${trace.traceId} is in the server's store`);
          assert.equal(stored.info.trace_location.mlflow_experiment.experiment_id, experimentId);
          const llm = stored.spans.find((s) => s.name === 'llm_call')!;
          assert.equal(llm.attributes['mlflow.spanType'], 'LLM');
          assert.equal(
            (llm.attributes['mlflow.chat.tokenUsage'] as { total_tokens: number }).total_tokens,
            21 + 2 * report.traces.indexOf(trace),
            'usage on the LLM span',
          );
          // 3.6 too: token usage goes as a structured OTLP value, which every version decodes and sums.
          const total = JSON.parse(stored.info.trace_metadata!['mlflow.trace.tokenUsage']!).total_tokens;
          assert.equal(total, trace.tokenUsage?.total_tokens);
          assert.equal(total, 21 + 2 * report.traces.indexOf(trace), 'usage summed once from the LLM span');
          assert.match(stored.info.request_preview ?? '', /^[A-Z][^{]*\?$/, 'the request preview is the question, not JSON');
        }
        const gzipped = server.requests.filter((r) => r.path === '/v1/traces' && r.headers['content-encoding'] === 'gzip');
        if (version === '3.6.0') assert.equal(gzipped.length, 0, '3.6 refuses gzip');
        else assert.ok(gzipped.length >= 1, 'gzip where the server takes it');
        const batches = server.requests.filter((r) => r.path === '/v1/traces' && r.status === 200);
        assert.equal(batches.length, 1, 'the three test traces go in one request');
        const otlpPosts = server.requests.filter((r) => r.path === '/v1/traces' && r.bodyBytes > 0);
        assert.ok(otlpPosts.every((r) => r.headers['content-type'] === 'application/x-protobuf'));
      });
    });
  }
});

describe('otel-mlflow doctor failure classes', () => {
  it('names a stopped server and exits 4', async () => {
    const result = await runCli(['doctor'], { env: { MLFLOW_TRACKING_URI: await closedPortUrl() } });
    assert.equal(result.code, 4, result.stderr + result.stdout);
    assert.match(result.stdout, /refused/i);
    assert.match(result.stdout, /hint:/);
  });

  it('wraps its lines at spaces within 80 columns, and says why later checks did not run', async () => {
    const result = await runCli(['doctor'], {
      env: { MLFLOW_TRACKING_URI: `${await closedPortUrl()}/a-long-path/to/make/the/tracking/uri/wrap` },
    });
    assert.equal(result.code, 4, result.stderr + result.stdout);
    const lines = result.stdout.split('\n');
    for (const line of lines) assert.ok(line.length <= 80 || !line.trim().includes(' '), `${line.length} columns: ${line}`);
    // A word cut by a wrap would leave a line ending or starting inside it; every piece must still be in the unwrapped text.
    const words = new Set(lines.join(' ').split(/\s+/));
    for (const word of ['http://127.0.0.1', 'listening', 'connection', 'refused)'])
      assert.ok(
        [...words].some((w) => w.includes(word)),
        word,
      );
    assert.match(
      result.stdout.replace(/\n {10}/g, ' '),
      /- skipped +MLflow server: not run, as the check "Tracking server reachable" failed/,
    );
    assert.doesNotMatch(result.stdout, /skipped: /);
  });

  it('names a wrong token and exits 5, without printing the token', async () => {
    const server = await startFakeMlflow({ auth: { token: 'right-token-1234567890' } });
    try {
      const result = await runCli(['doctor'], {
        env: { MLFLOW_TRACKING_URI: server.url, MLFLOW_TRACKING_TOKEN: 'wrong-token-0987654321' },
      });
      assert.equal(result.code, 5, result.stderr + result.stdout);
      assert.match(result.stdout, /401|credentials|unauthori[sz]ed/i);
      assert.doesNotMatch(result.stdout + result.stderr, /wrong-token-0987654321/);
    } finally {
      await server.close();
    }
  });

  it('sends Basic credentials on every call, /v1/traces included, and passes', async () => {
    const server = await startFakeMlflow({ auth: { username: 'alice', password: 'alice-password-123456' } });
    try {
      const result = await runCli(['doctor', '--create-experiment'], {
        env: { MLFLOW_TRACKING_URI: server.url, MLFLOW_TRACKING_USERNAME: 'alice', MLFLOW_TRACKING_PASSWORD: 'alice-password-123456' },
      });
      assert.equal(result.code, 0, result.stderr + result.stdout);
      assert.match(result.stdout, /Basic auth as alice/);
      const exports = server.requests.filter((r) => r.method === 'POST' && r.path === '/v1/traces');
      assert.ok(exports.length >= 1 && exports.every((r) => r.headers.authorization?.startsWith('Basic ')));
      assert.doesNotMatch(result.stdout + result.stderr, /alice-password-123456/);
    } finally {
      await server.close();
    }
  });

  it('tells a proxy refusing credentials from MLflow', async () => {
    const server = await startFakeMlflow({ proxy: { token: 'proxy-token-123456789012' } });
    try {
      const result = await runCli(['doctor'], { env: { MLFLOW_TRACKING_URI: server.url } });
      assert.equal(result.code, 5, result.stderr + result.stdout);
      assert.match(result.stdout, /proxy/i);
    } finally {
      await server.close();
    }
  });

  describe('behind a faulty proxy', () => {
    let mlflow: FakeMlflow;
    let proxy: FaultyProxy;
    before(async () => {
      mlflow = await startFakeMlflow();
      proxy = await startFaultyProxy(mlflow.url);
    });
    after(async () => {
      await proxy.close();
      await mlflow.close();
    });

    const doctorBehind = async (mode: ProxyMode) => {
      proxy.mode = mode;
      proxy.requests.length = 0;
      const result = await runCli(['doctor', '--json', '--create-experiment'], { env: { MLFLOW_TRACKING_URI: proxy.url } });
      return { result, report: doctorJson(result.stdout) };
    };

    it('whose SSO session expired: fails "reachable" naming the sign-in page, exits 5, and never fetches the page', async () => {
      const { result, report } = await doctorBehind({ kind: 'redirect', location: '/login?next=%2Fhealth' });
      assert.equal(result.code, 5, result.stderr + result.stdout);
      const reachable = check(report, 'reachable');
      assert.equal(reachable.status, 'fail');
      assert.equal(reachable.detail, `GET /health was redirected (302) to ${proxy.url}/login: a login proxy in front of MLflow?`);
      assert.match(reachable.hint ?? '', /point MLFLOW_TRACKING_URI past the proxy/);
      assert.equal(proxy.requests.filter((r) => r.path.startsWith('/login')).length, 0);
      assert.equal(mlflow.store.traces().length, 0);
    });

    it('answering /health with a gigabyte page: fails "reachable" with the cause and exits 4, having read a few MiB of it', async () => {
      const { result, report } = await doctorBehind({ kind: 'huge', status: 200, bytes: 1024 ** 3, path: '/health' });
      assert.equal(result.code, 4, result.stderr + result.stdout);
      const reachable = check(report, 'reachable');
      assert.equal(reachable.status, 'fail');
      assert.equal(
        reachable.detail,
        `${proxy.url} answered GET /health with more than 8 MiB (HTTP 200, text/html): not an answer MLflow gives — is something else listening there?`,
      );
      assert.doesNotMatch(result.stderr, /ERR_STRING_TOO_LONG|internal error/i);
      const sent = await proxy.requests.find((r) => r.path === '/health')!.hugeAnswer!;
      assert.ok(sent.bytesWritten < 40 * 1024 * 1024, `the proxy wrote ${sent.bytesWritten} bytes of 1 GiB`);
    });

    it('answering /version with 600 MB: fails the "MLflow server" check with the cause and exits 4', async () => {
      const { result, report } = await doctorBehind({ kind: 'huge', status: 200, bytes: 600_000_000, path: '/version' });
      assert.equal(result.code, 4, result.stderr + result.stdout);
      assert.equal(check(report, 'reachable').status, 'ok');
      const server = check(report, 'server');
      assert.equal(server.status, 'fail');
      assert.match(server.detail, /answered GET \/version with more than 8 MiB \(HTTP 200, text\/html\)/);
    });
  });

  it('names an unknown experiment, exits 6, and says how to create it', async () => {
    const server = await startFakeMlflow();
    try {
      const result = await runCli(['doctor', '--experiment', 'no-such-experiment'], { env: { MLFLOW_TRACKING_URI: server.url } });
      assert.equal(result.code, 6, result.stderr + result.stdout);
      assert.match(result.stdout.replace(/\n {10}/g, ' '), /no-such-experiment.*does not exist/);
      assert.match(result.stdout, /--create-experiment/);
      assert.equal(server.store.traces().length, 0, 'nothing was sent');
    } finally {
      await server.close();
    }
  });

  it('reports a deleted experiment with the fix, and restores it with --create-experiment', async () => {
    const server = await startFakeMlflow();
    try {
      const id = server.createExperiment('gone');
      server.deleteExperiment(id);
      const refused = await runCli(['doctor', '--experiment', 'gone'], { env: { MLFLOW_TRACKING_URI: server.url } });
      assert.equal(refused.code, 6, refused.stderr + refused.stdout);
      assert.match(refused.stdout, /deleted/);
      assert.match(refused.stdout, new RegExp(`mlflow experiments restore --experiment-id ${id}`));
      const restored = await runCli(['doctor', '--experiment', 'gone', '--create-experiment', '--json'], {
        env: { MLFLOW_TRACKING_URI: server.url },
      });
      assert.equal(restored.code, 0, restored.stderr + restored.stdout);
    } finally {
      await server.close();
    }
  });

  it('on a file-store server exits 9 naming the cause and the fix, after proving the REST path works', async () => {
    const server = await startFakeMlflow({ backend: 'file' });
    try {
      const result = await runCli(['doctor', '--json', '--create-experiment'], { env: { MLFLOW_TRACKING_URI: server.url } });
      assert.equal(result.code, 9, result.stderr + result.stdout);
      const report = doctorJson(result.stdout);
      const path = check(report, 'export-path');
      assert.equal(path.status, 'fail');
      assert.match(path.detail, /file store/);
      assert.match(path.hint ?? '', /--backend-store-uri sqlite:\/\/\/mlflow\.db/);
      assert.equal(check(report, 'read-back').status, 'ok');
      assert.equal(server.store.traces().filter((t) => t.loggedVia === 'rest').length, 3);

      const accepted = await runCli(['doctor', '--export-path', 'rest'], {
        env: { MLFLOW_TRACKING_URI: server.url, MLFLOW_EXPERIMENT_NAME_BASIC: 'otel-mlflow-doctor' },
      });
      assert.equal(accepted.code, 0, accepted.stderr + accepted.stdout);
    } finally {
      await server.close();
    }
  });

  it('exits 3 with every configuration problem at once', async () => {
    const result = await runCli(['doctor'], {
      env: { MLFLOW_TRACKING_URI: 'ftp://example.invalid', MLFLOW_EXPERIMENT_ID: 'abc' },
    });
    assert.equal(result.code, 3, result.stderr + result.stdout);
    assert.match(result.stdout, /MLFLOW_TRACKING_URI/);
    assert.match(result.stdout, /MLFLOW_EXPERIMENT_ID/);
  });

  it('lists several configuration problems one under the other, each wrapped on its own, within 80 columns', async () => {
    const result = await runCli(['doctor'], { env: { MLFLOW_TRACKING_URI: 'databricks://nope' } });
    assert.equal(result.code, 3, result.stderr + result.stdout);
    const lines = result.stdout.split('\n');
    for (const line of lines) assert.ok(line.length <= 80, `${line.length} columns: ${line}`);
    const items = lines.filter((line) => /^ {10}- /.test(line));
    assert.deepEqual(
      items.map((line) => line.trim().split(/[:,]/)[0]),
      ['- profile nope was asked for', '- no Databricks workspace host', '- no Databricks credentials', '- no experiment is set'],
    );
    assert.match(result.stdout, /add\s+host to profile \[nope\]/, 'the profile asked for, not DEFAULT');
    // A continuation sits under its item's text.
    assert.ok(lines.some((line) => /^ {12}\S/.test(line)));
  });

  it('with nothing configured runs in local mode: keeps the test traces in the local store, reads them back, exits 0', async () => {
    const storeDir = await mkdtemp(join(tmpdir(), 'otel-mlflow-doctor-store-'));
    try {
      const result = await runCli(['doctor', '--json'], { env: { OTEL_MLFLOW_STORE_DIR: storeDir } });
      assert.equal(result.code, 0, result.stderr + result.stdout);
      const report = doctorJson(result.stdout);
      assert.equal(report.ok, true);
      assert.equal(report.exportRoute, 'local');
      assert.equal(check(report, 'config').status, 'warn');
      assert.match(check(report, 'config').detail, new RegExp(`no MLflow is configured: traces are kept in ${storeDir}`));
      assert.match(check(report, 'config').hint ?? '', /MLFLOW_TRACKING_URI/);
      for (const id of ['reachable', 'server', 'credentials', 'experiment']) {
        assert.equal(check(report, id).status, 'skipped', id);
        assert.match(check(report, id).detail, /local store/, id);
      }
      assert.equal(check(report, 'export-path').status, 'warn');
      assert.equal(check(report, 'send').status, 'ok');
      assert.equal(check(report, 'read-back').status, 'ok', check(report, 'read-back').detail);
      assert.equal(report.traces.length, 3);
      for (const [index, trace] of report.traces.entries()) {
        assert.equal(trace.found, true);
        assert.equal(trace.state, 'OK');
        assert.deepEqual([...trace.spans].sort(), ['agent_execution', 'llm_call', 'postprocess', 'preprocess']);
        assert.equal(trace.spanTypes.llm_call, 'LLM');
        assert.equal(trace.tokenUsage?.total_tokens, 21 + 2 * index);
        assert.equal(trace.url, null);
      }
      const stored = withStore(storeDir, (store) => store.reads.list({ state: 'local' }).map((t) => t.traceId));
      assert.deepEqual(stored.sort(), report.traces.map((t) => t.traceId).sort());

      const human = await runCli(['doctor'], { env: { OTEL_MLFLOW_STORE_DIR: storeDir } });
      assert.equal(human.code, 0, human.stderr + human.stdout);
      assert.match(human.stdout, /All checks passed: traces are kept in the local store/);
      assert.match(human.stdout, /otel-mlflow traces show tr-[0-9a-f]{32}/);
      assert.match(human.stdout, /otel-mlflow traces push/);
    } finally {
      await rm(storeDir, { recursive: true, force: true });
    }
  });
});

const DOCTOR_BIN = fileURLToPath(new URL('../../bin/otel-mlflow.js', import.meta.url));
const terminalDriver = availableDrivers()[0];

describe('otel-mlflow doctor at a terminal', {
  skip: terminalDriver ? false : 'neither tmux nor python3 (pty) is installed, so no terminal can be driven',
}, () => {
  it('Ctrl-C at "Create it?" is a no: the experiment check fails with its hint (exit 6), not a crash report', async () => {
    const mlflow = await startFakeMlflow();
    const home = await mkdtemp(join(tmpdir(), 'otel-mlflow-doctor-tty-'));
    const terminal = await startTerminal(terminalDriver!, {
      argv: [process.execPath, DOCTOR_BIN, 'doctor', '--experiment', 'not-there-yet'],
      cwd: home,
      env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: home, TERM: 'xterm-256color', MLFLOW_TRACKING_URI: mlflow.url },
    });
    try {
      await terminal.waitFor("Experiment 'not-there-yet' does not exist. Create it?");
      await terminal.press('CtrlC');
      const end = await terminal.waitFor('[exited with status');
      assert.match(end, /\[exited with status 6\]/);
      assert.match(end, /rerun with --create-experiment/);
      assert.doesNotMatch(end, /internal error|bug/i);
      assert.equal(mlflow.store.experimentByName('not-there-yet'), undefined);
    } finally {
      await terminal.close();
      await mlflow.close();
      await rm(home, { recursive: true, force: true });
    }
  });
});
