import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { ExitCode, ExpectedError } from '../../src/errors.ts';
import { createAuthProvider } from '../../src/workspace-auth/auth.ts';
import { MlflowApiError } from '../../src/mlflow/errors.ts';
import { createMlflowHttp, type MlflowHttp } from '../../src/mlflow/http.ts';
import {
  getDatabricksTraceSpans,
  getTraceInfo,
  getTraceSpans,
  searchTraces,
  toMlflowTraceId,
  type TraceSpan,
} from '../../src/mlflow/traces.ts';
import { answer, FLASK_404_PAGE, startAnswerServer, type AnswerServer } from './answer-server.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

const TRACE_INFO_3_14 = `{"trace": {"trace_info": {"trace_id": "tr-5885c629dc95257e621d87cc17297f53",
  "trace_location": {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": "1"}},
  "request_time": "2026-11-24T16:31:40.644Z", "execution_duration": "0.007s", "state": "OK",
  "trace_metadata": {"mlflow.trace.tokenUsage": "{\\"input_tokens\\": 7}"},
  "tags": {"mlflow.trace.spansLocation": "TRACKING_STORE", "mlflow.artifactLocation": "mlflow-artifacts:/1/traces/tr-5885c629dc95257e621d87cc17297f53/artifacts", "service.name": "mlflow-otlp-probe"},
  "request_preview": "{\\"question\\":\\"what is 2+2? (exporter-proto)\\"}", "response_preview": "{\\"answer\\":\\"4\\"}"}}}`;
const SEARCH_PAGE_3_6 = `{"traces": [{"trace_id": "tr-6659f6a29f10e096e644a63ed7e9415d",
  "trace_location": {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": "1"}},
  "request_time": "2026-11-24T16:06:13.976Z", "execution_duration": "0.006s", "state": "OK",
  "tags": {"mlflow.artifactLocation": "mlflow-artifacts:/1/traces/tr-6659f6a29f10e096e644a63ed7e9415d/artifacts", "mlflow.trace.spansLocation": "TRACKING_STORE"},
  "request_preview": "\\"{\\\\\\"question\\\\\\":\\\\\\"what is 2+2? (raw-proto)\\\\\\"}\\"", "response_preview": "\\"{\\\\\\"answer\\\\\\":\\\\\\"4\\\\\\"}\\""}],
  "next_page_token": "eyJvZmZzZXQiOiAxfQ=="}`;
const TRACE_UNKNOWN =
  '{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Trace with ID tr-00000000000000000000000000000000 is not found.", "sqlstate": "KAM00", "error_class": "RESOURCE_NOT_FOUND"}';
const ARTIFACT_MISSING =
  '{"error_code": "NOT_FOUND", "message": "Trace data not found for path=<artifacts-root>/2/traces/tr-9d52d60307ae9b86236429e8d4d167fa/artifacts/traces.json"}';

const ARTIFACTS: Record<string, string> = {
  'tr-9963a16190279114a6b2d55f9d177d57': fixture('trace-artifact-3.6.0.json'),
  'tr-5f3c1d1dae19802ba2bf60a76759b2d7': fixture('trace-artifact-3.8.1.json'),
  'tr-ccfa9cb383c532b174ec708764b433bd': fixture('rest-traces-3.8.1.json'),
  'tr-2c36206dcc681d35eb79680a423c5b54': fixture('rest-traces-hex-ids-3.8.1.json'),
};

describe('traces', () => {
  let server: AnswerServer;
  let http: MlflowHttp;
  before(async () => {
    server = await startAnswerServer((req, res) => {
      const url = new URL(req.url, 'http://x');
      if (url.pathname === '/api/3.0/mlflow/traces/tr-5885c629dc95257e621d87cc17297f53') return answer(res, 200, TRACE_INFO_3_14);
      if (url.pathname.startsWith('/api/3.0/mlflow/traces/tr-')) return answer(res, 404, TRACE_UNKNOWN);
      if (url.pathname === '/api/3.0/mlflow/traces/search') {
        const body = JSON.parse(req.body) as { filter?: string };
        return answer(res, 200, body.filter === 'nothing' ? '{}' : SEARCH_PAGE_3_6);
      }
      if (url.pathname === '/ajax-api/2.0/mlflow/get-trace-artifact') {
        const file = ARTIFACTS[url.searchParams.get('request_id') ?? ''];
        return file ? answer(res, 200, file, { 'content-type': 'text/plain' }) : answer(res, 404, ARTIFACT_MISSING);
      }
      answer(res, 404, FLASK_404_PAGE, { 'content-type': 'text/html; charset=utf-8', server: 'uvicorn' });
    });
    http = createMlflowHttp({ baseUrl: server.url, auth: createAuthProvider({ kind: 'none' }) });
  });
  after(() => server.close());

  describe('getTraceInfo', () => {
    it('maps TraceInfoV3 to camelCase', async () => {
      assert.deepEqual(await getTraceInfo(http, 'tr-5885c629dc95257e621d87cc17297f53'), {
        traceId: 'tr-5885c629dc95257e621d87cc17297f53',
        experimentId: '1',
        requestTime: '2026-11-24T16:31:40.644Z',
        executionDuration: '0.007s',
        state: 'OK',
        requestPreview: '{"question":"what is 2+2? (exporter-proto)"}',
        responsePreview: '{"answer":"4"}',
        metadata: { 'mlflow.trace.tokenUsage': '{"input_tokens": 7}' },
        tags: {
          'mlflow.trace.spansLocation': 'TRACKING_STORE',
          'mlflow.artifactLocation': 'mlflow-artifacts:/1/traces/tr-5885c629dc95257e621d87cc17297f53/artifacts',
          'service.name': 'mlflow-otlp-probe',
        },
      });
    });

    it('answers undefined for a trace the server does not know', async () => {
      assert.equal(await getTraceInfo(http, 'tr-00000000000000000000000000000000'), undefined);
    });
  });

  describe('searchTraces', () => {
    it("sends MLflow's search body and maps the page", async () => {
      const page = await searchTraces(http, {
        experimentIds: ['1'],
        filter: "tag.`team` = 'search'",
        maxResults: 10,
        orderBy: ['timestamp_ms DESC'],
        pageToken: 'abc',
      });
      assert.deepEqual(JSON.parse(server.seen.at(-1)?.body ?? ''), {
        locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: '1' } }],
        filter: "tag.`team` = 'search'",
        max_results: 10,
        order_by: ['timestamp_ms DESC'],
        page_token: 'abc',
      });
      assert.deepEqual(
        page.traces.map((t) => [t.traceId, t.metadata]),
        [['tr-6659f6a29f10e096e644a63ed7e9415d', {}]],
      );
      assert.equal(page.nextPageToken, 'eyJvZmZzZXQiOiAxfQ==');
    });

    it('reads {} as no hits', async () => {
      assert.deepEqual(await searchTraces(http, { experimentIds: ['1'], filter: 'nothing' }), { traces: [] });
    });
  });

  describe('getTraceSpans', () => {
    it("decodes 3.8's artifact: hex ids, exact nanoseconds, attributes decoded once", async () => {
      const spans = await getTraceSpans(http, 'tr-5f3c1d1dae19802ba2bf60a76759b2d7');
      assert.ok(spans);
      const [root, llm, tool] = spans;
      assert.deepEqual(root, {
        name: 'agent-run (exporter-proto)',
        spanId: '354fa3e7e4e4400b',
        parentSpanId: null,
        startTimeNs: 1795536306854000000n,
        endTimeNs: 1795536306861502871n,
        statusCode: 'OK',
        attributes: {
          'mlflow.traceRequestId': 'tr-5f3c1d1dae19802ba2bf60a76759b2d7',
          'mlflow.spanType': 'AGENT',
          'mlflow.spanInputs': { question: 'what is 2+2? (exporter-proto)' },
          'mlflow.spanOutputs': { answer: '4' },
          'probe.variant': 'exporter-proto',
        },
      });
      assert.equal(llm?.parentSpanId, root?.spanId);
      assert.equal(llm?.attributes['llm.token_count.prompt'], 7);
      assert.equal(tool?.statusCode, 'UNSET');
      assert.equal(tool?.attributes['mlflow.spanOutputs'], '4');
    });

    it("reads 3.6's double-encoded object attributes the same as 3.8's", async () => {
      const [v36, v38] = await Promise.all([
        getTraceSpans(http, 'tr-9963a16190279114a6b2d55f9d177d57'),
        getTraceSpans(http, 'tr-5f3c1d1dae19802ba2bf60a76759b2d7'),
      ]);
      const comparable = (spans: TraceSpan[] | undefined) =>
        spans?.map(({ name, attributes: { 'mlflow.traceRequestId': _, ...rest } }) => ({ name, rest }));
      assert.deepEqual(comparable(v36), comparable(v38));
      assert.equal(v36?.[0]?.spanId, 'aa9c27ba8318ae03');
      assert.equal(v36?.[1]?.parentSpanId, 'aa9c27ba8318ae03');
    });

    it('decodes a REST-logged traces.json with base64 ids', async () => {
      const spans = await getTraceSpans(http, 'tr-ccfa9cb383c532b174ec708764b433bd');
      assert.deepEqual(
        spans?.map((s) => [s.name, s.spanId, s.parentSpanId]),
        [
          ['agent', 'f378df15d8cd2e61', null],
          ['llm', 'd34e3ef8246bc597', 'f378df15d8cd2e61'],
          ['calculator', '68929e4590853291', 'f378df15d8cd2e61'],
        ],
      );
      assert.equal(spans?.[0]?.startTimeNs, 1795537037654363429n);
      assert.deepEqual(spans?.[1]?.attributes['mlflow.chat.tokenUsage'], { input_tokens: 12, output_tokens: 5, total_tokens: 17 });
      assert.equal(spans?.[1]?.attributes['mlflow.message.format'], 'openai');
    });

    it('keeps hex ids that a client wrote instead of base64', async () => {
      const spans = await getTraceSpans(http, 'tr-2c36206dcc681d35eb79680a423c5b54');
      assert.deepEqual(
        spans?.map((s) => s.spanId),
        ['31393ac0807174e9', '9766b42eea624896', '329abbcf1c4db7ee'],
      );
    });

    it('answers undefined when the spans file is missing', async () => {
      assert.equal(await getTraceSpans(http, 'tr-9d52d60307ae9b86236429e8d4d167fa'), undefined);
    });
  });

  it('builds tr- ids from OTel trace ids', () => {
    assert.equal(toMlflowTraceId('5F3C1D1DAE19802BA2BF60A76759B2D7'), 'tr-5f3c1d1dae19802ba2bf60a76759b2d7');
    assert.throws(() => toMlflowTraceId('tr-5f3c1d1dae19802ba2bf60a76759b2d7'), TypeError);
  });
});

describe('getTraceSpans against a server without the route', () => {
  it('fails instead of answering "no spans"', async () => {
    const server = await startAnswerServer((_req, res) => answer(res, 404, FLASK_404_PAGE, { 'content-type': 'text/html' }));
    try {
      const http = createMlflowHttp({ baseUrl: server.url, auth: createAuthProvider({ kind: 'none' }) });
      await assert.rejects(getTraceSpans(http, 'tr-5f3c1d1dae19802ba2bf60a76759b2d7'), MlflowApiError);
    } finally {
      await server.close();
    }
  });
});

describe('getDatabricksTraceSpans', () => {
  let server: AnswerServer;
  let http: MlflowHttp;
  before(async () => {
    server = await startAnswerServer((req, res) => {
      const url = new URL(req.url, 'http://x');
      const traceId = /\/traces\/([^/]+)\/credentials-for-data-download$/.exec(url.pathname)?.[1];
      if (traceId === 'tr-unknown') return answer(res, 404, TRACE_UNKNOWN);
      if (traceId) {
        return answer(
          res,
          200,
          JSON.stringify({
            credential_info: {
              signed_uri: `${server.url}/bucket/${traceId}/traces.json?sig=SIGNATURE-123`,
              type: 'AWS_PRESIGNED_URL',
              headers: [{ name: 'x-amz-meta-probe', value: 'yes' }],
            },
          }),
        );
      }
      if (url.pathname === '/bucket/tr-ccfa9cb383c532b174ec708764b433bd/traces.json')
        return answer(res, 200, fixture('rest-traces-3.8.1.json'));
      if (url.pathname.startsWith('/bucket/tr-gone/')) {
        return answer(res, 404, '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code></Error>', {
          'content-type': 'application/xml',
        });
      }
      answer(
        res,
        403,
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message></Error>',
        { 'content-type': 'application/xml' },
      );
    });
    http = createMlflowHttp({
      baseUrl: server.url,
      auth: createAuthProvider({ kind: 'databricks-pat', token: { value: 'dapi-secret-1', source: { kind: 'default' } } }),
    });
  });
  after(() => server.close());

  it('downloads traces.json from the signed URL with its headers and without the workspace token', async () => {
    const spans = await getDatabricksTraceSpans(http, 'tr-ccfa9cb383c532b174ec708764b433bd');
    assert.deepEqual(
      spans?.map((s) => s.name),
      ['agent', 'llm', 'calculator'],
    );
    const [credentials, download] = server.seen.slice(-2);
    assert.equal(credentials?.headers.authorization, 'Bearer dapi-secret-1');
    assert.equal(download?.headers.authorization, undefined);
    assert.equal(download?.headers['x-amz-meta-probe'], 'yes');
  });

  it('answers undefined for an unknown trace or a missing file', async () => {
    assert.equal(await getDatabricksTraceSpans(http, 'tr-unknown'), undefined);
    assert.equal(await getDatabricksTraceSpans(http, 'tr-gone'), undefined);
  });

  it("reports a storage refusal as a read-back failure, with the storage's reason and without the signature", async () => {
    await assert.rejects(getDatabricksTraceSpans(http, 'tr-refused'), (e: unknown) => {
      assert.ok(e instanceof ExpectedError);
      assert.equal(e.exitCode, ExitCode.readback);
      assert.equal(
        e.message,
        'Downloading the spans of tr-refused from cloud storage failed: HTTP 403 SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided.',
      );
      const cause = e.cause as Error;
      assert.doesNotMatch(`${e.message} ${e.hint} ${cause.message}`, /SIGNATURE-123/);
      assert.match(cause.message, /GET http:\/\/127\.0\.0\.1:\d+\/bucket\/tr-refused\/traces\.json/);
      return true;
    });
  });
});
