import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonWithoutSecrets, maskSecrets, rememberSecrets, secretsOf } from '../../src/config/configured-secrets.ts';
import { describeSource, maskSecret } from '../../src/config/mask.ts';
import type { LocalSpan } from '../../src/spans/local-span.ts';
import { maskSpanText } from '../../src/spans/mask-span-text.ts';
import { toReadableSpans } from '../../src/spans/readable-spans.ts';
import { configToJson, configToLines } from '../../src/config/render-config.ts';
import { useTempProject } from './temp-project.ts';

describe('maskSecret', () => {
  it('shows only the last four characters of a secret of 20 characters or more', () => {
    assert.equal(maskSecret('dapi1234567890abcdef'), '****cdef');
    assert.equal(maskSecret('sk-proj-0123456789abcdefghij'), '****ghij');
  });

  it('shows nothing of a shorter secret', () => {
    assert.equal(maskSecret('dapi1234567890abcde'), '****');
    assert.equal(maskSecret(''), '****');
  });
});

describe('describeSource', () => {
  it('names each kind of source the way people look for it', () => {
    assert.equal(describeSource({ kind: 'flag', name: '--tracking-uri' }), 'flag --tracking-uri');
    assert.equal(describeSource({ kind: 'env', name: 'MLFLOW_TRACKING_URI' }), 'env MLFLOW_TRACKING_URI');
    assert.equal(describeSource({ kind: 'dotenv', path: '/abs/.env', name: 'DATABRICKS_HOST' }), '.env (/abs/.env) DATABRICKS_HOST');
    assert.equal(
      describeSource({ kind: 'file', path: '/x/.otel-mlflowrc.json', key: 'trackingUri' }),
      'config file /x/.otel-mlflowrc.json key trackingUri',
    );
    assert.equal(
      describeSource({ kind: 'databrickscfg', path: '~/.databrickscfg', profile: 'DEFAULT', key: 'host' }),
      '~/.databrickscfg [DEFAULT] host',
    );
    assert.equal(describeSource({ kind: 'default' }), 'default');
    assert.equal(describeSource({ kind: 'derived', from: 'env MLFLOW_TRACKING_URI' }), 'env MLFLOW_TRACKING_URI');
  });
});

/** Long, and each with a prefix found nowhere else, so a leak of any part but the masked tail is found. */
const SECRETS = {
  MLFLOW_TRACKING_PASSWORD: 'QQ1-mlflow-password-0123456789-SECRET',
  MLFLOW_TRACKING_TOKEN: 'QQ2-mlflow-token-0123456789-SECRET-XYZ',
  DATABRICKS_TOKEN: 'QQ3-databricks-token-0123456789-SECRET',
  DATABRICKS_CLIENT_SECRET: 'QQ4-databricks-client-secret-0123456789',
  OPENAI_API_KEY: 'QQ5-openai-key-0123456789-SECRET',
};
const HEADER_SECRET = 'QQ6-collector-api-key-0123456789-SECRET';

function assertNoSecrets(text: string, secrets: string[]) {
  for (const secret of secrets) {
    assert.ok(!text.includes(secret), `a secret leaked into: ${text}`);
    assert.ok(!text.includes(secret.slice(0, 6)), `the start of a secret leaked into: ${text}`);
  }
}

describe('secrets never leak', () => {
  const project = useTempProject();

  it('are masked in configToJson and configToLines, with the secret flag set', async () => {
    await project.write(
      '.env',
      Object.entries(SECRETS)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n'),
    );
    const config = await project.load({ env: { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000', MLFLOW_TRACKING_USERNAME: 'alice' } });
    assert.equal(config.auth.kind, 'basic');
    const views = { doctor: config, app: config };
    const json = JSON.stringify(configToJson(views));
    const lines = configToLines(views).join('\n');
    assertNoSecrets(json, Object.values(SECRETS));
    assertNoSecrets(lines, Object.values(SECRETS));
    assert.ok(lines.includes('****CRET'), 'the tail of a long secret is shown to tell secrets apart');
    const entries = (configToJson(views) as { entries: { key: string; secret: boolean }[] }).entries;
    assert.deepEqual(
      entries.filter((e) => e.secret).map((e) => e.key),
      ['databricksToken', 'databricksClientSecret', 'mlflowPassword', 'mlflowToken', 'openaiApiKey'],
    );
    assert.ok(json.includes('alice'), 'a user name is not a secret');
  });

  it('are masked in OTLP headers', async () => {
    await project.write('.env', '');
    const config = await project.load({
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_HEADERS: `x-api-key=${HEADER_SECRET}` },
    });
    const views = { doctor: config, app: config };
    assertNoSecrets(JSON.stringify(configToJson(views)), [HEADER_SECRET]);
    assertNoSecrets(configToLines(views).join('\n'), [HEADER_SECRET]);
  });

  it('stay out of error messages, even for the values that are wrong', async () => {
    await project.write('.env', `DATABRICKS_CLIENT_SECRET=${SECRETS.DATABRICKS_CLIENT_SECRET}\n`);
    const error = await project.loadError({
      env: {
        MLFLOW_TRACKING_URI: 'databricks',
        DATABRICKS_HOST: 'https://dbc-1.cloud.databricks.com',
        MLFLOW_EXPERIMENT_NAME: '/Users/me/x',
        OTEL_EXPORTER_OTLP_HEADERS: `x-api-key=${HEADER_SECRET},${HEADER_SECRET}`,
      },
    });
    const everything = `${error.message}\n${error.hint}\n${JSON.stringify(error.problems)}`;
    assertNoSecrets(everything, [HEADER_SECRET, SECRETS.DATABRICKS_CLIENT_SECRET]);
    assert.match(error.message, /DATABRICKS_CLIENT_SECRET is set but DATABRICKS_CLIENT_ID is not set/);
    assert.match(error.message, /OTEL_EXPORTER_OTLP_HEADERS must be a comma-separated list of key=value pairs \(not key=value: item 2\)/);
  });
});

describe('configured secrets in recorded and printed text', () => {
  const KEY = 'sk-proj-masked-0123456789abcd';
  rememberSecrets(
    secretsOf([
      { key: 'openaiApiKey', value: KEY, source: { kind: 'default' }, secret: true },
      { key: 'otlpHeaders.authorization', value: 'Bearer collector-token-0123', source: { kind: 'default' }, secret: true },
      { key: 'mlflowPassword', value: 'admin', source: { kind: 'default' }, secret: true },
      { key: 'mlflowUsername', value: 'alice-the-user', source: { kind: 'default' }, secret: false },
    ]),
  );

  it('masks each occurrence as config shows secrets, a header value also without its scheme', () => {
    assert.equal(maskSecrets(`Incorrect API key provided: ${KEY}. Again: ${KEY}`), 'Incorrect API key provided: ****abcd. Again: ****abcd');
    assert.equal(maskSecrets('token collector-token-0123 refused'), 'token ****0123 refused');
    assert.equal(maskSecrets('user alice-the-user'), 'user alice-the-user', 'what is not secret stays');
    assert.equal(
      maskSecrets('the admin page'),
      'the admin page',
      'a value too short to be a key is a word: masking it would mangle messages',
    );
  });

  it('masks strings inside JSON before they are escaped', () => {
    assert.equal(jsonWithoutSecrets({ error: { message: `bad key "${KEY}"` } }), '{"error":{"message":"bad key \\"****abcd\\""}}');
  });

  it("masks a span's status, attributes and exception events, and leaves a clean span as it is", () => {
    const local: LocalSpan = {
      traceId: '0'.repeat(32),
      spanId: '1'.repeat(16),
      parentSpanId: null,
      name: 'chat gpt-4o-mini',
      kind: 2,
      startTimeUnixNano: '1',
      endTimeUnixNano: '2',
      status: { code: 2, message: `401 Incorrect API key provided: ${KEY}` },
      attributes: { 'error.type': 'AuthenticationError', tags: ['a', KEY] },
      events: [
        {
          name: 'exception',
          timeUnixNano: '2',
          attributes: { 'exception.message': KEY, 'exception.stacktrace': `Error: ${KEY}\n    at x` },
        },
      ],
      resource: {},
      scope: { name: 'test' },
    };
    const [span] = toReadableSpans([local]);
    const masked = maskSpanText(span!, maskSecrets);
    const { name, status, attributes, events } = masked;
    assert.doesNotMatch(JSON.stringify({ name, status, attributes, events }), /masked-0123/);
    assert.equal(masked.status.message, '401 Incorrect API key provided: ****abcd');
    assert.deepEqual(masked.attributes.tags, ['a', '****abcd']);
    assert.equal(masked.events[0]!.attributes?.['exception.message'], '****abcd');
    const [clean] = toReadableSpans([{ ...local, status: { code: 0 }, attributes: {}, events: [] }]);
    assert.equal(maskSpanText(clean!, maskSecrets), clean);
  });
});
