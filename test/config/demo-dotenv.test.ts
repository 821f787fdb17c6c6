import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { describeSource } from '../../src/config/mask.ts';
import { useTempProject } from './temp-project.ts';

/** The `.env` of the Python demo's README, byte for byte (trailing spaces included). */
const DEMO_DOTENV = `# Databricks Configuration
DATABRICKS_HOST=https://your-workspace.cloud.databricks.com
DATABRICKS_TOKEN=dapi1234567890abcdef

# MLflow Configuration  
MLFLOW_TRACKING_URI=\${DATABRICKS_HOST}

# Experiment used by basic examples (0_simple_trace_test, etc.)
MLFLOW_EXPERIMENT_NAME_BASIC=/Users/your.email@company.com/otel-tracing-basic

# Experiment used by the FastAPI + OpenTelemetry example
MLFLOW_EXPERIMENT_NAME_OTEL=/Workspace/Users/your.email@databricks.com/otel-tracing-otel

# OpenAI Configuration
OPENAI_API_KEY=sk-proj-...
`;

describe("the old Python demo's .env", () => {
  const project = useTempProject();
  let dotenvPath: string;
  before(async () => {
    dotenvPath = await project.write('.env', DEMO_DOTENV);
  });

  it('means a Databricks workspace, reached with the personal access token', async () => {
    const config = await project.load();
    assert.equal(config.destination.kind, 'databricks');
    assert.equal(config.destination.host.value, 'https://your-workspace.cloud.databricks.com');
    assert.equal(config.auth.kind, 'databricks-pat');
    assert.equal(config.auth.token.value, 'dapi1234567890abcdef');
    assert.equal(describeSource(config.auth.token.source), `.env (${dotenvPath}) DATABRICKS_TOKEN`);
    assert.equal(config.openai.apiKey?.value, 'sk-proj-...');
    assert.deepEqual(config.files, { dotenv: dotenvPath });
  });

  it("says which of its values are the README's placeholders, without quoting the secret ones", async () => {
    const config = await project.load();
    const placeholders = config.notices.filter((n) => /the example \.env's placeholder, not a real value/.test(n));
    assert.deepEqual(
      placeholders.map((n) => /\) (\w+) is the example/.exec(n)?.[1]),
      ['MLFLOW_TRACKING_URI', 'DATABRICKS_HOST', 'DATABRICKS_TOKEN', 'OPENAI_API_KEY', 'MLFLOW_EXPERIMENT_NAME_BASIC'],
    );
    assert.ok(!config.notices.join('\n').includes('dapi1234567890abcdef'));
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: ${VAR} here is .env syntax, which the .env reader expands, not a template placeholder
  it('resolves MLFLOW_TRACKING_URI=${DATABRICKS_HOST} from the line above it', async () => {
    const config = await project.load();
    const entry = config.entries.find((e) => e.key === 'trackingUri');
    assert.equal(entry?.value, 'https://your-workspace.cloud.databricks.com');
  });

  it('gives doctor the BASIC experiment and the app the OTEL one', async () => {
    const doctor = await project.load({ purpose: 'doctor' });
    assert.equal(doctor.experiment.kind, 'name');
    assert.equal(doctor.experiment.name.value, '/Users/your.email@company.com/otel-tracing-basic');
    assert.equal(describeSource(doctor.experiment.name.source), `.env (${dotenvPath}) MLFLOW_EXPERIMENT_NAME_BASIC`);

    const app = await project.load({ purpose: 'app' });
    assert.equal(app.experiment.kind, 'name');
    assert.equal(app.experiment.name.value, '/Workspace/Users/your.email@databricks.com/otel-tracing-otel');
    assert.equal(describeSource(app.experiment.name.source), `.env (${dotenvPath}) MLFLOW_EXPERIMENT_NAME_OTEL`);
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: ${VAR} here is .env syntax, which the .env reader expands, not a template placeholder
  it('follows a DATABRICKS_HOST exported in the shell, which wins over the file in ${...} too', async () => {
    const config = await project.load({ env: { DATABRICKS_HOST: 'https://adb-1.2.azuredatabricks.net' } });
    assert.equal(config.destination.kind, 'databricks');
    assert.equal(config.destination.host.value, 'https://adb-1.2.azuredatabricks.net');
    assert.deepEqual(config.destination.host.source, { kind: 'env', name: 'DATABRICKS_HOST' });
  });
});
