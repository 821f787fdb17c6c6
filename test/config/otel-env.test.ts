import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeSource } from '../../src/config/mask.ts';
import { useTempProject } from './temp-project.ts';

describe('OTEL_* variables', () => {
  const project = useTempProject();

  const endpointFor = async (env: Record<string, string>) => {
    const config = await project.load({ env });
    assert.equal(config.destination.kind, 'collector');
    return config.destination.endpoint.value;
  };

  it('appends /v1/traces to OTEL_EXPORTER_OTLP_ENDPOINT, as the spec says, keeping a path', async () => {
    assert.equal(await endpointFor({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), 'http://collector:4318/v1/traces');
    assert.equal(await endpointFor({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }), 'http://collector:4318/v1/traces');
    assert.equal(
      await endpointFor({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://gw.example.com/otlp' }),
      'https://gw.example.com/otlp/v1/traces',
    );
  });

  it('uses OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, over the generic one', async () => {
    assert.equal(
      await endpointFor({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/custom', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://other:4318' }),
      'http://c:4318/custom',
    );
  });

  it('treats an empty OTEL_* variable as unset', async () => {
    const config = await project.load({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_SERVICE_NAME: '' } });
    assert.equal(config.destination.kind, 'local');
    assert.equal(config.serviceName.value, 'otel-mlflow');
  });

  it('parses headers, merging the traces-specific ones over the generic ones, values percent-decoded', async () => {
    const config = await project.load({
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20abc, x-tenant = one',
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-tenant=two',
      },
    });
    assert.equal(config.destination.kind, 'collector');
    assert.deepEqual(config.destination.headers?.value, { Authorization: 'Bearer abc', 'x-tenant': 'two' });
    assert.deepEqual(
      config.entries.filter((e) => e.key.startsWith('otlpHeaders.')).map((e) => [e.key, describeSource(e.source), e.secret]),
      [
        ['otlpHeaders.Authorization', 'env OTEL_EXPORTER_OTLP_HEADERS', true],
        ['otlpHeaders.x-tenant', 'env OTEL_EXPORTER_OTLP_TRACES_HEADERS', true],
      ],
    );
  });

  it('parses OTEL_RESOURCE_ATTRIBUTES, percent-decoded, over the config file', async () => {
    await project.write('.otel-mlflowrc.json', JSON.stringify({ resourceAttributes: { team: 'ml', region: 'eu' } }));
    const config = await project.load({ env: { OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,region=us%2Deast%201' } });
    assert.deepEqual(config.resourceAttributes.value, { team: 'ml', region: 'us-east 1', 'deployment.environment': 'prod' });
    await project.write('.otel-mlflowrc.json', '{}');
  });

  it('refuses a malformed OTEL_RESOURCE_ATTRIBUTES pair, naming its position', async () => {
    const error = await project.loadError({ env: { OTEL_RESOURCE_ATTRIBUTES: 'a=1,oops,c=%E0%A4%A' } });
    assert.deepEqual(error.problems, [
      {
        message:
          'OTEL_RESOURCE_ATTRIBUTES must be a comma-separated list of key=value pairs (not key=value: item 2; bad percent-encoding: item 3)',
        source: 'env OTEL_RESOURCE_ATTRIBUTES',
      },
    ]);
  });

  it('takes the service name from OTEL_SERVICE_NAME, then service.name in the resource attributes, then the default', async () => {
    const attributes = { OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attributes' };
    const named = await project.load({ env: { ...attributes, OTEL_SERVICE_NAME: 'from-variable' } });
    assert.equal(named.serviceName.value, 'from-variable');
    const fromAttributes = await project.load({ env: attributes });
    assert.deepEqual(fromAttributes.serviceName, { value: 'from-attributes', source: { kind: 'env', name: 'OTEL_RESOURCE_ATTRIBUTES' } });
    assert.deepEqual((await project.load()).serviceName, { value: 'otel-mlflow', source: { kind: 'default' } });
  });

  it('maps OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL to the encoding; OTEL_MLFLOW_OTLP_ENCODING and the flag win', async () => {
    const encoding = async (env: Record<string, string>, flags = {}) => {
      const config = await project.load({ env, flags });
      return `${config.otlpEncoding.value} (${describeSource(config.otlpEncoding.source)})`;
    };
    assert.equal(await encoding({}), 'protobuf (default)');
    assert.equal(await encoding({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }), 'json (env OTEL_EXPORTER_OTLP_PROTOCOL)');
    assert.equal(
      await encoding({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' }),
      'protobuf (env OTEL_EXPORTER_OTLP_TRACES_PROTOCOL)',
    );
    assert.equal(
      await encoding({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_MLFLOW_OTLP_ENCODING: 'json' }),
      'json (env OTEL_MLFLOW_OTLP_ENCODING)',
    );
    assert.equal(await encoding({ OTEL_MLFLOW_OTLP_ENCODING: 'json' }, { otlpEncoding: 'protobuf' }), 'protobuf (flag --otlp-encoding)');
  });

  it('takes grpc, which programs’ exporters use, as protobuf for MLflow, which the tool never sends gRPC', async () => {
    const config = await project.load({ env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', MLFLOW_TRACKING_URI: 'http://mlflow:5000' } });
    assert.equal(config.destination.kind, 'mlflow');
    assert.equal(config.otlpEncoding.value, 'protobuf');
    assert.equal((await project.load({ env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' } })).destination.kind, 'local');
  });

  it('refuses a collector given for grpc and says to use its HTTP port, unless the tool’s encoding was chosen apart', async () => {
    const collector = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' };
    const error = await project.loadError({ env: collector });
    assert.equal(error.problems.length, 1);
    assert.equal(error.problems[0]!.source, 'env OTEL_EXPORTER_OTLP_TRACES_PROTOCOL');
    assert.match(error.problems[0]!.message, /is grpc, which otel-mlflow cannot send to a collector; use http\/protobuf and the HTTP port/);
    await project.write('.env', 'OTEL_EXPORTER_OTLP_PROTOCOL=grpc\n');
    const fromDotenv = await project.loadError({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317' } });
    assert.match(fromDotenv.problems[0]!.source ?? '', /OTEL_EXPORTER_OTLP_PROTOCOL/);
    await project.write('.env', '');
    const besideMlflow = await project.loadError({ env: { ...collector, MLFLOW_TRACKING_URI: 'http://mlflow:5000' } });
    assert.match(besideMlflow.problems[0]!.message, /, or pass --tracking-uri http:\/\/mlflow:5000 to send to MLflow instead$/);
    const chosen = await project.load({ env: { ...collector, OTEL_MLFLOW_OTLP_ENCODING: 'protobuf' } });
    assert.equal(chosen.destination.kind, 'collector');
  });

  it('reads OTEL_MLFLOW_EXPORT_PATH and refuses values other than auto, otlp, rest', async () => {
    assert.equal((await project.load({ env: { OTEL_MLFLOW_EXPORT_PATH: 'rest' } })).exportPath.value, 'rest');
    const error = await project.loadError({ env: { OTEL_MLFLOW_EXPORT_PATH: 'grpc' } });
    assert.deepEqual(error.problems, [
      { message: "OTEL_MLFLOW_EXPORT_PATH must be one of auto, otlp, rest (got 'grpc')", source: 'env OTEL_MLFLOW_EXPORT_PATH' },
    ]);
  });
});
