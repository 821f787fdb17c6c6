import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeOtlpProtobuf } from '../../src/otlp/otlp-decode.ts';
import { listen } from '../fakes/listen.ts';
import { runCli } from './run-cli.ts';

/** The smallest OTLP/HTTP collector: records what arrives and answers with the given status. */
async function fakeCollector(status: number) {
  const received: { headers: Record<string, string | string[] | undefined>; body: Buffer }[] = [];
  const server = await listen(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    received.push({ headers: req.headers, body: Buffer.concat(chunks) });
    res.writeHead(status, { 'content-type': status === 200 ? 'application/x-protobuf' : 'application/json' });
    res.end(status === 200 ? '' : '{"code":3,"message":"collector says no"}');
  });
  return { ...server, received };
}

describe('otel-mlflow doctor with an OTLP collector', () => {
  it('sends the test traces as OTLP protobuf with the configured headers, and skips MLflow read-back', async () => {
    const collector = await fakeCollector(200);
    try {
      const result = await runCli(['doctor', '--json'], {
        env: {
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.url}/v1/traces`,
          OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=collector-secret-123456789',
        },
      });
      assert.equal(result.code, 0, result.stderr + result.stdout);
      const report = JSON.parse(result.stdout);
      assert.equal(report.exportRoute, 'collector');
      assert.equal(report.checks.find((c: { id: string }) => c.id === 'read-back').status, 'skipped');
      assert.ok(collector.received.length >= 1);
      for (const request of collector.received) {
        assert.equal(request.headers['content-type'], 'application/x-protobuf');
        assert.equal(request.headers['x-api-key'], 'collector-secret-123456789');
      }
      const names = collector.received.flatMap((r) => decodeOtlpProtobuf(r.body).flatMap((rs) => rs.spans.map((span) => span.name)));
      assert.equal(names.filter((n) => n === 'agent_execution').length, 3);
      assert.doesNotMatch(result.stdout + result.stderr, /collector-secret-123456789/);
    } finally {
      await collector.close();
    }
  });

  it('says what was proven (the collector took the traces) and what was not (that they reach MLflow), not "not found"', async () => {
    const collector = await fakeCollector(200);
    try {
      const env = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.url}/v1/traces` };
      const result = await runCli(['doctor'], { env });
      assert.equal(result.code, 0, result.stderr + result.stdout);
      assert.doesNotMatch(result.stdout, /traces reach MLflow/);
      assert.doesNotMatch(result.stdout, /not found/);
      assert.equal(result.stdout.match(/exported, not read back/g)?.length, 3);
      assert.match(result.stdout, /All checks passed: 3 test traces accepted by the OTLP collector\./);
      assert.match(
        result.stdout.replace(/\n/g, ' '),
        /Not proven: that they reach MLflow, as they cannot be read back from here \(a collector cannot be read back; look for the traces in its backend\)/,
      );

      const json = JSON.parse((await runCli(['doctor', '--json'], { env })).stdout) as {
        traces: { found: boolean | null; exported: boolean }[];
      };
      assert.deepEqual(
        json.traces.map((t) => [t.exported, t.found]),
        [
          [true, null],
          [true, null],
          [true, null],
        ],
      );
    } finally {
      await collector.close();
    }
  });

  it("exits 7 with the collector's refusal when it rejects the traces", async () => {
    const collector = await fakeCollector(400);
    try {
      const result = await runCli(['doctor'], { env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.url}/v1/traces` } });
      assert.equal(result.code, 7, result.stderr + result.stdout);
      assert.match(result.stdout, /collector says no/);
    } finally {
      await collector.close();
    }
  });
});
