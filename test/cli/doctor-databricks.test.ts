import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFakeDatabricks, type FakeDatabricks } from '../fakes/fake-databricks.ts';
import { runCli } from './run-cli.ts';

const PAT = 'dapi-fake-personal-token-0123456789';
const CLIENT = { clientId: 'sp-client-1', clientSecret: 'sp-secret-abcdefghijklmnop' };
const EXPERIMENT = '/Users/your.email@company.com/otel-tracing-basic';

/** The Python demo's .env, verbatim but for the host, which points at the fake workspace. */
function demoDotenv(host: string, token: string): string {
  return `# Databricks Configuration
DATABRICKS_HOST=${host}
DATABRICKS_TOKEN=${token}

# MLflow Configuration  
MLFLOW_TRACKING_URI=\${DATABRICKS_HOST}

# Experiment used by basic examples (0_simple_trace_test, etc.)
MLFLOW_EXPERIMENT_NAME_BASIC=${EXPERIMENT}

# Experiment used by the FastAPI + OpenTelemetry example
MLFLOW_EXPERIMENT_NAME_OTEL=/Workspace/Users/your.email@databricks.com/otel-tracing-otel

# OpenAI Configuration
OPENAI_API_KEY=sk-proj-...
`;
}

describe('otel-mlflow doctor against a Databricks workspace', () => {
  let workspace: FakeDatabricks;
  const dirs: string[] = [];
  /** A working directory of its own per test, so one test's .env cannot leak into the next. */
  const freshDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'otel-mlflow-dbx-'));
    dirs.push(dir);
    return dir;
  };
  before(async () => {
    workspace = await startFakeDatabricks({ pat: PAT, oauth: CLIENT, ucTables: ['main.tracing.app_otel_spans'] });
  });
  after(async () => {
    await workspace.close();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it("works with the old demo's .env unchanged: REST export, signed-URL upload, traces read back", async () => {
    const result = await runCli(['doctor', '--json', '--create-experiment'], {
      cwd: await freshDir(),
      dotenv: demoDotenv(workspace.url, PAT),
    });
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const report = JSON.parse(result.stdout);
    assert.equal(report.destination, 'databricks');
    assert.equal(report.exportRoute, 'rest');
    assert.equal(report.experiment.name, EXPERIMENT);
    assert.equal(report.traces.length, 3);
    for (const trace of report.traces) {
      assert.equal(trace.found, true);
      assert.match(trace.url, new RegExp(`^${workspace.url}/ml/experiments/${report.experiment.id}/traces`));
      const stored = workspace.store.getTrace(trace.traceId)!;
      assert.equal(stored.loggedVia, 'rest');
      assert.equal(stored.spans.length, 4);
    }
    assert.equal(workspace.store.getTrace(report.traces[0].traceId)!.info.request_preview, 'What is MLflow tracing?');
    assert.equal(workspace.uploads.length, 3, 'spans went through the signed URL');
    for (const upload of workspace.uploads) assert.equal(upload.headers.authorization, undefined);
    assert.doesNotMatch(result.stdout + result.stderr, new RegExp(PAT));
  });

  it('authenticates as a service principal from a ~/.databrickscfg profile (OAuth M2M)', async () => {
    const cwd = await freshDir();
    const cfg = join(cwd, 'databrickscfg');
    await writeFile(
      cfg,
      `[DEFAULT]\nhost = https://unused.cloud.databricks.com\n\n[ci]\nhost = ${workspace.url}\nclient_id = ${CLIENT.clientId}\nclient_secret = ${CLIENT.clientSecret}\n`,
    );
    const before = workspace.issuedTokens.length;
    const result = await runCli(['doctor', '--json', '--create-experiment', '--experiment', '/Users/sp/doctor'], {
      cwd,
      env: { MLFLOW_TRACKING_URI: 'databricks://ci', DATABRICKS_CONFIG_FILE: cfg },
    });
    assert.equal(result.code, 0, result.stderr + result.stdout);
    // One for the checks and the read-back, one for the pipeline's worker thread that sends the traces:
    // credentials are never handed between threads, each signs its own requests.
    assert.equal(workspace.issuedTokens.length, before + 2, 'one token per thread serves the whole run');
    assert.doesNotMatch(result.stdout + result.stderr, new RegExp(CLIENT.clientSecret));
  });

  it('names a rejected token and exits 5', async () => {
    const result = await runCli(['doctor'], { cwd: await freshDir(), dotenv: demoDotenv(workspace.url, 'dapi-wrong-token-9876543210') });
    assert.equal(result.code, 5, result.stderr + result.stdout);
    assert.match(result.stdout, /403|token/i);
    assert.doesNotMatch(result.stdout + result.stderr, /dapi-wrong-token-9876543210/);
  });

  it('sends to a Unity Catalog table over OTLP when one is configured', async () => {
    const result = await runCli(['doctor', '--json'], {
      env: { DATABRICKS_HOST: workspace.url, DATABRICKS_TOKEN: PAT, OTEL_MLFLOW_UC_TABLE: 'main.tracing.app_otel_spans' },
    });
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const report = JSON.parse(result.stdout);
    assert.equal(report.exportRoute, 'unity-catalog');
    const received = workspace.ucSpans.filter((batch) => batch.table === 'main.tracing.app_otel_spans');
    assert.equal(received.length, 1, 'the three test traces in one request');
    const spanNames = received[0]!.spans.map((s) => s.name);
    assert.equal(spanNames.length, 12);
    assert.deepEqual([...new Set(spanNames)].sort(), ['agent_execution', 'llm_call', 'postprocess', 'preprocess']);
  });
});
