import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { context, trace, type Attributes } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { startFakeDatabricks } from './fakes/fake-databricks.ts';
import type { FakeDatabricks } from './fakes/fake-databricks.ts';
import { MLFLOW_VERSIONS, startFakeMlflow } from './fakes/fake-mlflow.ts';
import type { FakeMlflow, FakeMlflowOptions, MlflowVersion } from './fakes/fake-mlflow.ts';
import { otlpJson, otlpProtobuf, readableSpan } from './fakes/readable-spans.ts';
import type { SpanSpec } from './fakes/readable-spans.ts';

// Expected answers are copied from the real servers' samples in /work/shared/mlflow-samples/<version>/
// (otlp-summary.txt, otlp-results.json, extra/results.json, misc.txt, rest-3.8.1/transcript.md).

const TRACE_HEX = '163a8080d544a5d7a1570cc417d69ac7';
const ROOT = 'aa00000000000001';

interface Answer {
  status: number;
  contentType: string | null;
  text: string;
  headers: Headers;
}

async function call(
  base: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<Answer> {
  const response = await fetch(base + path, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    ...(init.headers === undefined ? {} : { headers: init.headers }),
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    text: await response.text(),
    headers: response.headers,
  };
}

function postJson(base: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return call(base, path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

function json(answer: Answer): unknown {
  return JSON.parse(answer.text.replace(/tr-[0-9a-f]{32}/g, 'tr-X'));
}

async function withMlflow(options: FakeMlflowOptions, run: (fake: FakeMlflow, experimentId: string) => Promise<void>): Promise<void> {
  const fake = await startFakeMlflow(options);
  try {
    await run(fake, fake.createExperiment('otlp-probe'));
  } finally {
    await fake.close();
  }
}

function threeSpans(traceHex = TRACE_HEX, extra: Partial<SpanSpec> = {}): SpanSpec[] {
  const start = extra.startMs ?? 1_795_538_125_077;
  return [
    {
      traceId: traceHex,
      spanId: ROOT,
      name: 'agent-run',
      statusCode: 1,
      attributes: { 'mlflow.spanType': 'AGENT', 'mlflow.spanInputs': '{"question":"2+2?"}', 'mlflow.spanOutputs': '{"answer":"4"}' },
      ...extra,
    },
    {
      traceId: traceHex,
      spanId: 'aa00000000000002',
      parentSpanId: ROOT,
      name: 'llm-call',
      startMs: start + 1,
      attributes: { 'mlflow.spanType': 'LLM' },
    },
    {
      traceId: traceHex,
      spanId: 'aa00000000000003',
      parentSpanId: ROOT,
      name: 'calculator',
      startMs: start + 2,
      attributes: { 'mlflow.spanType': 'TOOL' },
    },
  ];
}

function protobufOf(specs: SpanSpec[]): Buffer {
  return otlpProtobuf(specs.map(readableSpan));
}

function postOtlp(fake: FakeMlflow, headers: Record<string, string>, body: Buffer = protobufOf(threeSpans())): Promise<Answer> {
  return call(fake.url, '/v1/traces', { method: 'POST', headers, body });
}

/** A StartTraceV3 body of an OK trace (rest-3.8.1's times), with any other TraceInfoV3 fields. */
function startTraceBody(experimentId: string, fields: Record<string, unknown> = {}, traceId = `tr-${TRACE_HEX}`): unknown {
  return {
    trace: {
      trace_info: {
        trace_id: traceId,
        trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } },
        request_time: '2026-11-24T16:17:17.654Z',
        execution_duration: '0.900s',
        state: 'OK',
        ...fields,
      },
    },
  };
}

/** StartTraceV3 for TRACE_HEX as a client does that sends the spans over OTLP: tagged for the tracking store. */
function registerForTrackingStore(fake: FakeMlflow, experimentId: string, metadata?: Record<string, string>): Promise<Answer> {
  return postJson(
    fake.url,
    '/api/3.0/mlflow/traces',
    startTraceBody(experimentId, {
      ...(metadata && { trace_metadata: metadata }),
      tags: { 'mlflow.trace.spansLocation': 'TRACKING_STORE' },
    }),
  );
}

const PROTOBUF = 'application/x-protobuf';
const UP_TO_38: MlflowVersion[] = ['3.6.0', '3.7.0', '3.8.1'];
const withClasses = (version: MlflowVersion, body: Record<string, string>, sqlstate: string, errorClass: string): Record<string, string> =>
  version === '3.11.1' ? body : { ...body, sqlstate, error_class: errorClass };

describe('fake MLflow: POST /v1/traces header answers per version', () => {
  const missingV1 = { detail: [{ loc: ['header', 'x-mlflow-experiment-id'], msg: 'field required', type: 'value_error.missing' }] };
  const missingV2 = { detail: [{ type: 'missing', loc: ['header', 'x-mlflow-experiment-id'], msg: 'Field required', input: null }] };

  for (const version of MLFLOW_VERSIONS) {
    it(`${version}: missing, unknown, non-numeric and empty experiment headers answer as the real server`, async () => {
      await withMlflow({ version }, async (fake) => {
        const old = UP_TO_38.includes(version);
        const missing = await postOtlp(fake, { 'content-type': PROTOBUF });
        assert.equal(missing.status, 422);
        assert.deepEqual(json(missing), old ? missingV1 : missingV2);

        const unknown = await postOtlp(fake, { 'content-type': PROTOBUF, 'x-mlflow-experiment-id': '999999' });
        if (old) {
          assert.equal(unknown.status, 422);
          assert.deepEqual(json(unknown), { detail: 'Failed to log OpenTelemetry spans: Trace tr-X: No Experiment with id=999999 exists' });
        } else {
          assert.equal(unknown.status, 404);
          const body = { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'No Experiment with id=999999 exists' };
          assert.deepEqual(json(unknown), withClasses(version, body, 'KAM00', 'RESOURCE_NOT_FOUND'));
        }

        const nonNumeric = await postOtlp(fake, { 'content-type': PROTOBUF, 'x-mlflow-experiment-id': 'not-a-number' });
        if (old) {
          assert.equal(nonNumeric.status, 422);
          assert.deepEqual(json(nonNumeric), {
            detail: "Failed to log OpenTelemetry spans: Trace tr-X: invalid literal for int() with base 10: 'not-a-number'",
          });
        } else {
          assert.equal(nonNumeric.status, 400);
          const body = {
            error_code: 'INVALID_PARAMETER_VALUE',
            message: "Invalid experiment ID 'not-a-number'. Experiment ID must be a valid integer.",
          };
          assert.deepEqual(json(nonNumeric), withClasses(version, body, 'KAM00', 'INVALID_PARAMETER_VALUE'));
        }

        const empty = await postOtlp(fake, { 'content-type': PROTOBUF, 'x-mlflow-experiment-id': '' });
        const expectedEmpty: Record<MlflowVersion, [number, unknown]> = {
          '3.6.0': [422, { detail: 'Failed to log OpenTelemetry spans: Trace tr-X: No row was found when one was required' }],
          '3.7.0': [422, { detail: 'Failed to log OpenTelemetry spans: Trace tr-X: No row was found when one was required' }],
          '3.8.1': [422, { detail: 'Failed to log OpenTelemetry spans: Trace tr-X: No row was found when one was required' }],
          '3.11.1': [400, { error_code: 'BAD_REQUEST', message: 'No row was found when one was required' }],
          '3.12.1.dev0': [
            500,
            { error_code: 'INTERNAL_ERROR', message: "'tr-X'", sqlstate: 'XXM00', error_class: 'CLIENT_INTERNAL_ERROR' },
          ],
          '3.14.1.dev0': [200, undefined],
        };
        const [status, body] = expectedEmpty[version];
        assert.equal(empty.status, status);
        if (body === undefined) assert.equal(empty.text, '');
        else assert.deepEqual(json(empty), body);
        // 3.14's 200 for the empty header stores nothing, like every refusal above.
        assert.equal(fake.store.traces().length, 0);
      });
    });
  }
});

describe('fake MLflow: encodings per version', () => {
  const jsonRefused = (contentType: string): unknown => ({
    detail: `Invalid Content-Type: ${contentType}. Expected: application/x-protobuf`,
  });

  for (const version of MLFLOW_VERSIONS) {
    it(`${version}: protobuf, gzip, OTLP/JSON and charset answer as the real server`, async () => {
      await withMlflow({ version }, async (fake, experimentId) => {
        const header = { 'x-mlflow-experiment-id': experimentId };
        const plain = await postOtlp(
          fake,
          { ...header, 'content-type': PROTOBUF },
          protobufOf(threeSpans('00000000000000000000000000000001')),
        );
        assert.equal(plain.status, 200);
        assert.equal(plain.contentType, PROTOBUF);
        assert.equal(plain.text, version === '3.6.0' ? '{"partialSuccess":null}' : '');

        const gzip = await postOtlp(
          fake,
          { ...header, 'content-type': PROTOBUF, 'content-encoding': 'gzip' },
          gzipSync(protobufOf(threeSpans('00000000000000000000000000000002'))),
        );
        if (version === '3.6.0') {
          assert.equal(gzip.status, 400);
          assert.deepEqual(json(gzip), { detail: 'Invalid OpenTelemetry protobuf format' });
        } else {
          assert.equal(gzip.status, 200);
        }

        const takesJson = version === '3.12.1.dev0' || version === '3.14.1.dev0';
        const jsonBody = otlpJson(threeSpans('00000000000000000000000000000003').map(readableSpan));
        for (const contentType of ['application/json', 'application/json; charset=utf-8', 'application/x-protobuf; charset=utf-8']) {
          const body = contentType.startsWith('application/json') ? jsonBody : protobufOf(threeSpans('00000000000000000000000000000004'));
          const answer = await postOtlp(fake, { ...header, 'content-type': contentType }, body);
          assert.equal(answer.status, takesJson ? 200 : 400, contentType);
          if (!takesJson) assert.deepEqual(json(answer), jsonRefused(contentType));
        }

        const stored = fake.store
          .traces(experimentId)
          .map((t) => t.info.trace_id)
          .sort();
        const expected = ['tr-00000000000000000000000000000001'];
        if (version !== '3.6.0') expected.push('tr-00000000000000000000000000000002');
        if (takesJson) expected.push('tr-00000000000000000000000000000003', 'tr-00000000000000000000000000000004');
        assert.deepEqual(stored, expected);
      });
    });
  }

  it('answers an empty body, a garbage body and GET as 3.8.1 and 3.14.1.dev0 do (misc.txt)', async () => {
    for (const [version, word] of [
      ['3.8.1', 'OpenTelemetry protobuf format'],
      ['3.14.1.dev0', 'OpenTelemetry format'],
    ] as const) {
      await withMlflow({ version }, async (fake, experimentId) => {
        const headers = { 'content-type': PROTOBUF, 'x-mlflow-experiment-id': experimentId };
        const empty = await postOtlp(fake, headers, Buffer.alloc(0));
        assert.equal(empty.status, 400);
        assert.deepEqual(json(empty), { detail: `Invalid ${word} - no spans found` });
        const garbage = await postOtlp(fake, headers, Buffer.from([0xff, 0xff, 0xff, 0xff]));
        assert.equal(garbage.status, 400);
        assert.deepEqual(json(garbage), { detail: `Invalid ${word}` });
        const get = await call(fake.url, '/v1/traces');
        assert.equal(get.status, 404);
        assert.equal(get.contentType, 'text/html; charset=utf-8');
        assert.match(get.text, /<title>404 Not Found<\/title>/);
      });
    }
  });
});

describe('fake MLflow: storage per version', () => {
  it('stores a request trace by trace up to 3.8 and all-or-nothing from 3.11 (empty span id)', async () => {
    const valid = threeSpans('0000000000000000000000000000000a');
    const malformed = threeSpans('0000000000000000000000000000000b');
    malformed[1] = { ...malformed[1]!, spanId: '' };
    const body = protobufOf([...valid, ...malformed]);
    await withMlflow({ version: '3.8.1' }, async (fake, experimentId) => {
      const answer = await postOtlp(fake, { 'content-type': PROTOBUF, 'x-mlflow-experiment-id': experimentId }, body);
      assert.equal(answer.status, 200);
      assert.equal(fake.store.traces().length, 2);
      assert.ok(fake.store.getTrace('tr-0000000000000000000000000000000b')?.spans.some((span) => span.spanId === '0000000000000000'));
    });
    await withMlflow({ version: '3.11.1' }, async (fake, experimentId) => {
      const answer = await postOtlp(fake, { 'content-type': PROTOBUF, 'x-mlflow-experiment-id': experimentId }, body);
      assert.equal(answer.status, 422);
      assert.deepEqual(json(answer), { detail: 'Cannot convert OpenTelemetry span to MLflow span' });
      assert.equal(fake.store.traces().length, 0);
    });
  });

  it('encodes attribute values as each version stores them (trace-artifact-ajax.json)', async () => {
    const attributes = {
      'mlflow.spanInputs': '{"question":"q"}',
      list: '["a","b"]',
      'mlflow.spanOutputs': '4',
      'mlflow.spanType': 'AGENT',
      count: 7,
    };
    const expected: Record<string, Record<string, string>> = {
      '3.6.0': { 'mlflow.spanInputs': '"{\\"question\\":\\"q\\"}"', list: '"[\\"a\\",\\"b\\"]"' },
      '3.8.1': { 'mlflow.spanInputs': '{"question":"q"}', list: '"[\\"a\\",\\"b\\"]"' },
      '3.11.1': { 'mlflow.spanInputs': '{"question":"q"}', list: '["a","b"]' },
    };
    for (const [version, byVersion] of Object.entries(expected)) {
      await withMlflow({ version: version as MlflowVersion }, async (fake, experimentId) => {
        await postOtlp(
          fake,
          { 'content-type': PROTOBUF, 'x-mlflow-experiment-id': experimentId },
          protobufOf([{ traceId: TRACE_HEX, spanId: ROOT, name: 'root', attributes }]),
        );
        const artifact = await call(fake.url, `/ajax-api/2.0/mlflow/get-trace-artifact?request_id=tr-${TRACE_HEX}`);
        assert.equal(artifact.status, 200);
        assert.equal(artifact.contentType, 'text/plain');
        const stored = (JSON.parse(artifact.text) as { spans: { attributes: Record<string, string> }[] }).spans[0]?.attributes;
        assert.deepEqual(stored, {
          'mlflow.traceRequestId': `"tr-${TRACE_HEX}"`,
          ...byVersion,
          'mlflow.spanOutputs': '"4"',
          'mlflow.spanType': '"AGENT"',
          count: '7',
        });
        const info = fake.store.getTrace(`tr-${TRACE_HEX}`)?.info;
        // The preview is the stored text: 3.6 shows its double encoding.
        assert.equal(info?.request_preview, byVersion['mlflow.spanInputs']);
      });
    }
  });

  it('stores object attributes sent as JSON text or as kvlist values as 3.6.0/extra/object-attributes.txt shows', async () => {
    const question = 'What is MLflow tracing?';
    const answer = 'It records spans.';
    const inputs = { messages: [{ role: 'user', content: question }] };
    const outputs = { choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop' }] };
    const usage = { input_tokens: 5, output_tokens: 7, total_tokens: 12 };
    // Python's json.dumps spacing, as the sample's client wrote the JSON text.
    const pyJson = (value: unknown): string => JSON.stringify(value).replace(/":/g, '": ').replace(/,"/g, ', "');
    const encodings = {
      'JSON string': (value: object): unknown => pyJson(value),
      kvlist: (value: object): unknown => value,
    };
    const stored = (fake: FakeMlflow) => {
      const trace = fake.store.getTrace(`tr-${TRACE_HEX}`)!;
      return {
        info: {
          request_preview: trace.info.request_preview,
          response_preview: trace.info.response_preview,
          trace_metadata: trace.info.trace_metadata,
        },
        spans: trace.spans.map((span) => ({ name: span.name, attributes: span.rawAttributes })),
      };
    };
    const byVersion: Record<string, Record<string, ReturnType<typeof stored>>> = {};
    for (const version of ['3.6.0', '3.8.1', '3.11.1', '3.14.1.dev0'] as const) {
      for (const [encoding, encode] of Object.entries(encodings)) {
        await withMlflow({ version }, async (fake, experimentId) => {
          const io = { 'mlflow.spanInputs': encode(inputs), 'mlflow.spanOutputs': encode(outputs) };
          const body = protobufOf([
            { traceId: TRACE_HEX, spanId: ROOT, name: 'root', attributes: { 'mlflow.spanType': 'CHAIN', ...io } as Attributes },
            {
              traceId: TRACE_HEX,
              spanId: 'aa00000000000002',
              parentSpanId: ROOT,
              name: 'llm',
              attributes: { 'mlflow.spanType': 'CHAT_MODEL', 'mlflow.chat.tokenUsage': encode(usage), ...io } as Attributes,
            },
          ]);
          assert.equal((await postOtlp(fake, { 'content-type': PROTOBUF, 'x-mlflow-experiment-id': experimentId }, body)).status, 200);
          byVersion[version] = { ...byVersion[version], [encoding]: stored(fake) };
        });
      }
    }
    const decoded = byVersion['3.6.0']!.kvlist!;
    assert.deepEqual(decoded.info, {
      request_preview: question,
      response_preview: answer,
      trace_metadata: { 'mlflow.trace.tokenUsage': '{"input_tokens": 5, "output_tokens": 7, "total_tokens": 12}' },
    });
    assert.deepEqual(decoded.spans[1]!.attributes, {
      'mlflow.traceRequestId': `"tr-${TRACE_HEX}"`,
      'mlflow.spanType': '"CHAT_MODEL"',
      'mlflow.chat.tokenUsage': '{"input_tokens": 5, "output_tokens": 7, "total_tokens": 12}',
      'mlflow.spanInputs': pyJson(inputs),
      'mlflow.spanOutputs': pyJson(outputs),
    });
    const doubled = byVersion['3.6.0']!['JSON string']!;
    assert.deepEqual(doubled.info, {
      request_preview: JSON.stringify(pyJson(inputs)),
      response_preview: JSON.stringify(pyJson(outputs)),
      trace_metadata: undefined,
    });
    assert.equal(doubled.spans[1]!.attributes['mlflow.chat.tokenUsage'], JSON.stringify(pyJson(usage)));
    for (const version of ['3.8.1', '3.11.1', '3.14.1.dev0']) {
      assert.deepEqual(byVersion[version]!['JSON string'], byVersion[version]!.kvlist, `${version} stores both encodings alike`);
      assert.deepEqual(byVersion[version]!.kvlist!.info, decoded.info, version);
    }
  });

  it('derives session and user metadata and trace tags as each version does', async () => {
    const attributes = {
      'session.id': 's-1',
      'user.id': 'u-1',
      'mlflow.traceTag.team': 'search',
      'mlflow.traceTag.mlflow.traceName': 'chat',
    };
    const expected: Record<MlflowVersion, { metadata: Record<string, string> | undefined; tags: Record<string, string> }> = {
      '3.6.0': { metadata: undefined, tags: {} },
      '3.7.0': { metadata: { 'mlflow.trace.session': '"s-1"' }, tags: {} },
      '3.8.1': { metadata: { 'mlflow.trace.session': '"s-1"' }, tags: {} },
      '3.11.1': { metadata: { 'mlflow.trace.session': '"s-1"' }, tags: {} },
      '3.12.1.dev0': {
        metadata: { 'mlflow.trace.session': '"s-1"', 'mlflow.trace.user': '"u-1"' },
        tags: { team: 'search', 'mlflow.traceName': 'chat' },
      },
      '3.14.1.dev0': {
        metadata: { 'mlflow.trace.session': 's-1', 'mlflow.trace.user': 'u-1' },
        tags: { team: 'search', 'mlflow.traceName': 'chat', 'service.name': 'probe' },
      },
    };
    for (const version of MLFLOW_VERSIONS) {
      await withMlflow({ version }, async (fake, experimentId) => {
        const body = protobufOf([
          { traceId: TRACE_HEX, spanId: ROOT, name: 'chat-turn', attributes, resource: { 'service.name': 'probe' } },
        ]);
        assert.equal((await postOtlp(fake, { 'content-type': PROTOBUF, 'x-mlflow-experiment-id': experimentId }, body)).status, 200);
        const info = fake.store.getTrace(`tr-${TRACE_HEX}`)?.info;
        assert.deepEqual(info?.trace_metadata, expected[version].metadata, version);
        assert.deepEqual(
          info?.tags,
          {
            'mlflow.trace.spansLocation': 'TRACKING_STORE',
            'mlflow.artifactLocation': `mlflow-artifacts:/${experimentId}/traces/tr-${TRACE_HEX}/artifacts`,
            ...expected[version].tags,
          },
          version,
        );
      });
    }
  });

  it('keeps the session and user a trace was registered with over REST when its spans come over OTLP (log_spans writes them only where none are)', async () => {
    const attributes = { 'session.id': 's-1', 'user.id': 'u-1' };
    for (const version of MLFLOW_VERSIONS) {
      await withMlflow({ version }, async (fake, experimentId) => {
        const registered = await registerForTrackingStore(fake, experimentId, {
          'mlflow.trace.session': 's-1',
          'mlflow.trace.user': 'u-1',
        });
        assert.equal(registered.status, 200, version);
        const body = protobufOf(threeSpans(TRACE_HEX, { attributes: { ...threeSpans()[0]!.attributes, ...attributes } }));
        assert.equal(
          (await postOtlp(fake, { 'content-type': PROTOBUF, 'x-mlflow-experiment-id': experimentId }, body)).status,
          200,
          version,
        );
        const stored = fake.store.getTrace(`tr-${TRACE_HEX}`)!;
        assert.equal(stored.info.trace_metadata?.['mlflow.trace.session'], 's-1', version);
        assert.equal(stored.info.trace_metadata?.['mlflow.trace.user'], 'u-1', version);
        assert.equal(stored.info.state, 'OK', version);
        assert.equal(stored.loggedVia, 'otlp', `${version}: the spans are read from the tracking store`);
        const artifact = await call(fake.url, `/ajax-api/2.0/mlflow/get-trace-artifact?request_id=tr-${TRACE_HEX}`);
        assert.equal((JSON.parse(artifact.text) as { spans: unknown[] }).spans.length, 3, version);
        const location = [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } }];
        const found = await postJson(fake.url, '/api/3.0/mlflow/traces/search', {
          locations: location,
          filter: "metadata.`mlflow.trace.session` = 's-1'",
        });
        assert.deepEqual(
          (JSON.parse(found.text) as { traces?: { trace_id: string }[] }).traces?.map((t) => t.trace_id),
          [`tr-${TRACE_HEX}`],
          version,
        );
      });
    }
  });

  it('reads a trace registered over REST with the tracking-store tag from the tracking store: no spans until OTLP brings them', async () => {
    await withMlflow({ version: '3.8.1' }, async (fake, experimentId) => {
      const registered = await registerForTrackingStore(fake, experimentId);
      assert.equal(registered.status, 200);
      const artifact = await call(fake.url, `/ajax-api/2.0/mlflow/get-trace-artifact?request_id=tr-${TRACE_HEX}`);
      assert.deepEqual(JSON.parse(artifact.text), { spans: [] });
    });
  });

  it('translates gen_ai.* and OpenInference attributes as the extra/genai-proto samples show', async () => {
    const attributes = {
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.provider.name': 'openai',
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 7,
      'gen_ai.input.messages': '[{"role":"user","parts":[{"type":"text","content":"Hi"}]}]',
    };
    const derived: Record<string, Record<string, unknown>> = {
      '3.7.0': {},
      '3.8.1': {
        'mlflow.spanType': '"CHAT_MODEL"',
        'mlflow.spanInputs': '"[{\\"role\\":\\"user\\",\\"parts\\":[{\\"type\\":\\"text\\",\\"content\\":\\"Hi\\"}]}]"',
        'mlflow.chat.tokenUsage': '{"input_tokens": 12, "output_tokens": 7, "total_tokens": 19}',
      },
      '3.12.1.dev0': {
        'mlflow.spanType': '"CHAT_MODEL"',
        'mlflow.spanInputs': '[{"role":"user","parts":[{"type":"text","content":"Hi"}]}]',
        'mlflow.chat.tokenUsage': '{"input_tokens": 12, "output_tokens": 7, "total_tokens": 19}',
        'mlflow.llm.model': '"gpt-4o-mini"',
        'mlflow.llm.provider': '"openai"',
      },
    };
    for (const [version, expected] of Object.entries(derived)) {
      await withMlflow({ version: version as MlflowVersion }, async (fake, experimentId) => {
        const body = protobufOf([
          { traceId: TRACE_HEX, spanId: ROOT, name: 'chat', attributes },
          {
            traceId: TRACE_HEX,
            spanId: 'aa00000000000002',
            parentSpanId: ROOT,
            name: 'openinference',
            attributes: { 'llm.token_count.prompt': 7 },
          },
        ]);
        await postOtlp(fake, { 'content-type': PROTOBUF, 'x-mlflow-experiment-id': experimentId }, body);
        const [chat, openInference] = fake.store.getTrace(`tr-${TRACE_HEX}`)?.spans ?? [];
        const keys = ['mlflow.spanType', 'mlflow.spanInputs', 'mlflow.chat.tokenUsage', 'mlflow.llm.model', 'mlflow.llm.provider'];
        assert.deepEqual(
          Object.fromEntries(keys.filter((k) => chat?.rawAttributes[k] !== undefined).map((k) => [k, chat?.rawAttributes[k]])),
          expected,
          version,
        );
        assert.equal(openInference?.rawAttributes['mlflow.chat.tokenUsage'], version === '3.12.1.dev0' ? '{"input_tokens": 7}' : undefined);
      });
    }
  });

  it('keeps a trace IN_PROGRESS until its root arrives and upserts re-sent spans (otlp-split-and-duplicate.txt)', async () => {
    await withMlflow({ version: '3.8.1' }, async (fake, experimentId) => {
      const [root, ...children] = threeSpans();
      const headers = { 'content-type': PROTOBUF, 'x-mlflow-experiment-id': experimentId };
      await postOtlp(fake, headers, protobufOf(children));
      const partial = await call(fake.url, `/api/3.0/mlflow/traces/get?trace_id=tr-${TRACE_HEX}&allow_partial=true`);
      assert.equal((json(partial) as { trace: { trace_info: { state: string } } }).trace.trace_info.state, 'IN_PROGRESS');
      await postOtlp(fake, headers, protobufOf([root!]));
      await postOtlp(fake, headers, protobufOf(threeSpans()));
      const stored = fake.store.getTrace(`tr-${TRACE_HEX}`);
      assert.equal(stored?.info.state, 'OK');
      assert.deepEqual(
        stored?.spans.map((span) => span.name),
        ['agent-run', 'llm-call', 'calculator'],
      );
    });
  });

  it('stores real SDK spans with the server-derived previews and token usage', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'sdk-test' }),
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    const tracer = provider.getTracer('fakes.test');
    const root = tracer.startSpan('chat-turn', {
      attributes: {
        'mlflow.spanType': 'AGENT',
        'mlflow.spanInputs': JSON.stringify({
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: 'What is the capital of France?' },
          ],
        }),
        'mlflow.spanOutputs': JSON.stringify({ choices: [{ message: { role: 'assistant', content: 'Paris.' } }] }),
      },
    });
    const parent = trace.setSpan(context.active(), root);
    for (const [name, usage] of [
      ['llm-a', { input_tokens: 12, output_tokens: 7, total_tokens: 19 }],
      ['llm-b', { input_tokens: 100, output_tokens: 50, total_tokens: 150 }],
    ] as const) {
      tracer.startSpan(name, { attributes: { 'mlflow.spanType': 'LLM', 'mlflow.chat.tokenUsage': JSON.stringify(usage) } }, parent).end();
    }
    root.setStatus({ code: 2, message: 'boom' });
    root.end();
    await provider.forceFlush();
    const body = otlpProtobuf(exporter.getFinishedSpans());
    const traceId = `tr-${root.spanContext().traceId}`;
    for (const version of ['3.8.1', '3.14.1.dev0'] as const) {
      await withMlflow({ version }, async (fake, experimentId) => {
        assert.equal((await postOtlp(fake, { 'content-type': PROTOBUF, 'x-mlflow-experiment-id': experimentId }, body)).status, 200);
        const stored = fake.store.getTrace(traceId);
        assert.equal(stored?.loggedVia, 'otlp');
        assert.equal(stored.info.state, 'ERROR');
        assert.equal(stored.info.request_preview, 'What is the capital of France?');
        assert.equal(stored.info.response_preview, 'Paris.');
        assert.equal(
          stored.info.trace_metadata?.['mlflow.trace.tokenUsage'],
          '{"input_tokens": 112, "output_tokens": 57, "total_tokens": 169}',
        );
        assert.deepEqual(
          stored.spans.map((span) => [span.name, span.parentSpanId === null]),
          [
            ['chat-turn', true],
            ['llm-a', false],
            ['llm-b', false],
          ],
        );
        assert.deepEqual(stored.spans[1]?.attributes['mlflow.chat.tokenUsage'], { input_tokens: 12, output_tokens: 7, total_tokens: 19 });
        const withSpans = json(await call(fake.url, `/api/3.0/mlflow/traces/get?trace_id=${traceId}`)) as {
          trace: { spans: { attributes: { key: string; value: unknown }[]; status: unknown }[] };
        };
        assert.deepEqual(withSpans.trace.spans[0]?.status, { code: 'STATUS_CODE_ERROR', message: 'boom' });
        assert.deepEqual(withSpans.trace.spans[0]?.attributes.find((kv) => kv.key === 'mlflow.spanType')?.value, { string_value: 'AGENT' });
      });
    }
  });
});

describe('fake MLflow: runs and trace-to-run links', () => {
  const searchByRun = async (fake: FakeMlflow, experimentId: string, filter: string): Promise<string[]> => {
    const answer = await postJson(fake.url, '/api/3.0/mlflow/traces/search', {
      locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } }],
      filter,
    });
    return ((JSON.parse(answer.text) as { traces?: { trace_id: string }[] }).traces ?? []).map((t) => t.trace_id);
  };

  for (const version of ['3.8.1', '3.14.1.dev0'] as const) {
    it(`MLflow ${version}: x-mlflow-run-id on /v1/traces ${version === '3.14.1.dev0' ? 'links the completed trace' : 'is ignored'}`, async () => {
      await withMlflow({ version }, async (fake, experimentId) => {
        const runId = fake.createRun(experimentId);
        const answer = await postOtlp(fake, { 'content-type': PROTOBUF, 'x-mlflow-experiment-id': experimentId, 'x-mlflow-run-id': runId });
        assert.equal(answer.status, 200);
        const expected = version === '3.14.1.dev0' ? [`tr-${TRACE_HEX}`] : [];
        assert.deepEqual(await searchByRun(fake, experimentId, `attribute.run_id = '${runId}'`), expected);
        assert.deepEqual(await searchByRun(fake, experimentId, `metadata.\`mlflow.sourceRun\` = '${runId}'`), expected);
      });
    });
  }

  it('answers runs/get and runs/create, links by link-to-run, and refuses more than 100 trace ids at once', async () => {
    await withMlflow({ version: '3.6.0' }, async (fake, experimentId) => {
      const created = await postJson(fake.url, '/api/2.0/mlflow/runs/create', { experiment_id: experimentId, run_name: 'eval' });
      const runId = (JSON.parse(created.text) as { run: { info: { run_id: string } } }).run.info.run_id;
      const got = JSON.parse((await call(fake.url, `/api/2.0/mlflow/runs/get?run_id=${runId}`)).text) as {
        run: { info: Record<string, unknown> };
      };
      assert.deepEqual([got.run.info.experiment_id, got.run.info.run_name, got.run.info.lifecycle_stage], [experimentId, 'eval', 'active']);
      const unknown = await call(fake.url, '/api/2.0/mlflow/runs/get?run_id=nope');
      assert.equal(unknown.status, 404);
      assert.deepEqual(JSON.parse(unknown.text), { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'Run with id=nope not found' });

      await postOtlp(fake, { 'content-type': PROTOBUF, 'x-mlflow-experiment-id': experimentId });
      assert.equal(
        (await postJson(fake.url, '/api/2.0/mlflow/traces/link-to-run', { trace_ids: [`tr-${TRACE_HEX}`], run_id: runId })).status,
        200,
      );
      assert.deepEqual(await searchByRun(fake, experimentId, `attribute.run_id = '${runId}'`), [`tr-${TRACE_HEX}`]);
      assert.deepEqual(await searchByRun(fake, experimentId, `attribute.run_id = 'other'`), []);
      const many = Array.from({ length: 101 }, (_, i) => `tr-${String(i).padStart(32, '0')}`);
      const refused = await postJson(fake.url, '/api/2.0/mlflow/traces/link-to-run', { trace_ids: many, run_id: runId });
      assert.equal(refused.status, 400);
      assert.match(refused.text, /Cannot link more than 100 traces to a run in a single request. Provided 101 traces./);
    });
  });
});

describe('fake MLflow: REST logging, read-back, experiments, auth', () => {
  const traceInfo = (experimentId: string, id = `tr-${TRACE_HEX}`): unknown =>
    startTraceBody(
      experimentId,
      {
        trace_metadata: { 'mlflow.trace_schema.version': '3', 'mlflow.trace.session': 'session-1' },
        tags: { 'mlflow.traceName': 'agent' },
        request_preview: 'What is 2+2?',
        response_preview: '4',
      },
      id,
    );
  const tracesJson = JSON.stringify({
    spans: [
      {
        trace_id: Buffer.from(TRACE_HEX, 'hex').toString('base64'),
        span_id: Buffer.from(ROOT, 'hex').toString('base64'),
        parent_span_id: null,
        name: 'agent',
        start_time_unix_nano: 1795537037654363429n.toString(),
        end_time_unix_nano: 1795537038554363429n.toString(),
        events: [],
        status: { code: 'STATUS_CODE_OK', message: '' },
        attributes: {
          'mlflow.traceRequestId': `"tr-${TRACE_HEX}"`,
          'mlflow.spanType': '"AGENT"',
          'mlflow.spanInputs': '{"question": "What is 2+2?"}',
        },
      },
    ],
  }).replace(/"(\d{19})"/g, '$1');

  it('logs a trace over REST as rest-3.8.1 does, deriving nothing', async () => {
    await withMlflow({ version: '3.8.1' }, async (fake, experimentId) => {
      const started = await postJson(fake.url, '/api/3.0/mlflow/traces', traceInfo(experimentId));
      assert.equal(started.status, 200);
      const info = (json(started) as { trace: { trace_info: { tags: Record<string, string>; trace_metadata: Record<string, string> } } })
        .trace.trace_info;
      assert.equal(info.tags['mlflow.artifactLocation'], `mlflow-artifacts:/${experimentId}/traces/tr-X/artifacts`);
      assert.equal(info.trace_metadata['mlflow.trace.tokenUsage'], undefined);

      const before = await call(fake.url, `/ajax-api/2.0/mlflow/get-trace-artifact?request_id=tr-${TRACE_HEX}`);
      assert.equal(before.status, 404);
      assert.equal((json(before) as { error_code: string }).error_code, 'NOT_FOUND');

      const put = await call(fake.url, `/api/2.0/mlflow-artifacts/artifacts/${experimentId}/traces/tr-${TRACE_HEX}/artifacts/traces.json`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: tracesJson,
      });
      assert.deepEqual([put.status, put.text], [200, '{}']);
      const artifact = await call(fake.url, `/ajax-api/2.0/mlflow/get-trace-artifact?request_id=tr-${TRACE_HEX}`);
      assert.deepEqual(
        [artifact.status, artifact.text, artifact.headers.get('content-disposition')],
        [200, tracesJson, 'attachment; filename=traces.json'],
      );
      const stored = fake.store.getTrace(`tr-${TRACE_HEX}`);
      assert.equal(stored?.loggedVia, 'rest');
      assert.equal(stored.spans[0]?.startTimeUnixNano, 1795537037654363429n);
      assert.deepEqual(stored.spans[0]?.attributes['mlflow.spanInputs'], { question: 'What is 2+2?' });

      const withSpans = await call(fake.url, `/api/3.0/mlflow/traces/get?trace_id=tr-${TRACE_HEX}&allow_partial=true`);
      assert.equal(withSpans.status, 500);
      assert.deepEqual(json(withSpans), { error_code: 'INTERNAL_ERROR', message: 'Trace data not stored in tracking store' });

      const unknown = await postJson(fake.url, '/api/3.0/mlflow/traces', traceInfo('999999'));
      assert.equal(unknown.status, 404);
      assert.deepEqual(json(unknown), { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'No Experiment with id=999999 exists' });
      const noContentType = await call(fake.url, '/api/3.0/mlflow/traces', {
        method: 'POST',
        body: JSON.stringify(traceInfo(experimentId)),
      });
      assert.equal(noContentType.status, 400);
    });
  });

  it('answers as a file store: OTLP 501, traces/get 501, a re-sent trace 500 (rest-3.8.1-filestore)', async () => {
    await withMlflow({ version: '3.8.1', backend: 'file' }, async (fake, experimentId) => {
      assert.match(experimentId, /^\d{18}$/);
      const otlp = await postOtlp(fake, { 'content-type': PROTOBUF, 'x-mlflow-experiment-id': experimentId });
      assert.equal(otlp.status, 501);
      assert.deepEqual(json(otlp), { detail: 'REST OTLP span logging is not supported by FileStore' });
      assert.equal((await postJson(fake.url, '/api/3.0/mlflow/traces', traceInfo(experimentId))).status, 200);
      const get = await call(fake.url, `/api/3.0/mlflow/traces/get?trace_id=tr-${TRACE_HEX}`);
      assert.deepEqual([get.status, json(get)], [501, { error_code: 'NOT_IMPLEMENTED', message: '' }]);
      const again = await postJson(fake.url, '/api/3.0/mlflow/traces', traceInfo(experimentId));
      assert.deepEqual([again.status, again.contentType], [500, 'text/html; charset=utf-8']);
    });
  });

  it('answers unknown traces, 3.6 traces/get and unknown paths as the samples do', async () => {
    await withMlflow({ version: '3.6.0' }, async (fake) => {
      const get = await call(fake.url, `/api/3.0/mlflow/traces/get?trace_id=tr-${TRACE_HEX}`);
      assert.deepEqual(
        [get.status, json(get)],
        [404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: "Trace with ID 'get' not found." }],
      );
      const unknownPath = await call(fake.url, '/api/2.0/mlflow/nope');
      assert.deepEqual([unknownPath.status, unknownPath.contentType], [404, 'text/html; charset=utf-8']);
      const wrongMethod = await call(fake.url, '/api/2.0/mlflow/experiments/create');
      assert.deepEqual([wrongMethod.status, wrongMethod.contentType], [405, 'text/html; charset=utf-8']);
    });
    await withMlflow({ version: '3.8.1' }, async (fake, experimentId) => {
      await postOtlp(fake, { 'content-type': PROTOBUF, 'x-mlflow-experiment-id': experimentId });
      const batch = json(
        await call(fake.url, `/api/3.0/mlflow/traces/batchGet?trace_ids=tr-${TRACE_HEX}&trace_ids=tr-00000000000000000000000000000009`),
      ) as {
        traces: { spans: { name: string }[] }[];
      };
      assert.deepEqual(
        batch.traces.map((t) => t.spans.map((span) => span.name)),
        [['agent-run', 'llm-call', 'calculator']],
      );
    });
    await withMlflow({ version: '3.14.1.dev0' }, async (fake) => {
      const get = await call(fake.url, '/api/3.0/mlflow/traces/get?trace_id=tr-00000000000000000000000000000000');
      assert.equal(get.status, 404);
      assert.deepEqual(json(get), {
        error_code: 'RESOURCE_DOES_NOT_EXIST',
        message: 'Trace with ID tr-X is not found.',
        sqlstate: 'KAM00',
        error_class: 'RESOURCE_NOT_FOUND',
      });
    });
  });

  it('searches with filters, pages with next_page_token and answers {} for no hits', async () => {
    await withMlflow({ version: '3.14.1.dev0' }, async (fake, experimentId) => {
      const headers = { 'content-type': PROTOBUF, 'x-mlflow-experiment-id': experimentId };
      for (const [n, team] of [
        [1, 'search'],
        [2, 'search'],
        [3, 'other'],
      ] as const) {
        const spans = threeSpans(`0000000000000000000000000000000${n}`, {
          startMs: 1_795_538_125_000 + n * 1000,
          attributes: { 'mlflow.traceTag.team': team },
        });
        await postOtlp(fake, headers, protobufOf(spans));
      }
      const location = [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } }];
      const filter = "tag.`team` = 'search' AND trace.status = 'OK'";
      const firstPage = await postJson(fake.url, '/api/3.0/mlflow/traces/search', {
        locations: location,
        filter,
        max_results: 1,
        order_by: ['timestamp_ms DESC'],
      });
      const first = JSON.parse(firstPage.text) as { traces: { trace_id: string }[]; next_page_token: string };
      // Newest first: trace 2 on the first page, trace 1 on the second, trace 3 filtered out.
      assert.deepEqual(
        first.traces.map((t) => t.trace_id),
        ['tr-00000000000000000000000000000002'],
      );
      assert.equal(Buffer.from(first.next_page_token, 'base64').toString(), '{"offset": 1}');
      const second = await postJson(fake.url, '/api/3.0/mlflow/traces/search', {
        locations: location,
        filter,
        max_results: 1,
        page_token: first.next_page_token,
      });
      assert.deepEqual(JSON.parse(second.text), { traces: [fake.store.getTrace('tr-00000000000000000000000000000001')?.info] });
      const none = await postJson(fake.url, '/api/3.0/mlflow/traces/search', {
        locations: location,
        filter: "metadata.`mlflow.trace.session` = 'nope'",
      });
      assert.deepEqual([none.status, none.text.trim()], [200, '{}']);
    });
  });

  it('refuses duplicate and deleted experiment names as misc.txt shows', async () => {
    for (const version of ['3.8.1', '3.14.1.dev0'] as const) {
      await withMlflow({ version }, async (fake) => {
        const created = await postJson(fake.url, '/api/2.0/mlflow/experiments/create', { name: 'demo' });
        const { experiment_id: id } = json(created) as { experiment_id: string };
        const duplicate = await postJson(fake.url, '/api/2.0/mlflow/experiments/create', { name: 'demo' });
        assert.equal(duplicate.status, 400);
        const error = json(duplicate) as Record<string, string>;
        assert.equal(error.error_code, 'RESOURCE_ALREADY_EXISTS');
        assert.equal(error.sqlstate, version === '3.8.1' ? undefined : 'KAM00');
        assert.deepEqual([(await postJson(fake.url, '/api/2.0/mlflow/experiments/delete', { experiment_id: id })).text.trim()], ['{}']);
        const deleted = json(await call(fake.url, '/api/2.0/mlflow/experiments/get-by-name?experiment_name=demo')) as {
          experiment: { lifecycle_stage: string };
        };
        assert.equal(deleted.experiment.lifecycle_stage, 'deleted');
        assert.equal((await postJson(fake.url, '/api/2.0/mlflow/experiments/create', { name: 'demo' })).status, 400);
        assert.equal((await postJson(fake.url, '/api/2.0/mlflow/experiments/restore', { experiment_id: id })).status, 200);
        const missing = await call(fake.url, '/api/2.0/mlflow/experiments/get-by-name?experiment_name=nope');
        assert.equal(missing.status, 404);
        assert.equal((json(missing) as Record<string, string>).message, "Could not find experiment with name 'nope'");
      });
    }
  });

  it('answers 401 from MLflow basic auth and 401/403 from a proxy, telling them apart by Server', async () => {
    const auth = await startFakeMlflow({ auth: { username: 'u', password: 'p' } });
    try {
      const refused = await call(auth.url, '/version');
      assert.equal(refused.status, 401);
      assert.equal(refused.headers.get('www-authenticate'), 'Basic realm="mlflow"');
      assert.match(refused.text, /You are not authenticated/);
      assert.equal((await call(auth.url, '/health')).status, 200);
      const basic = `Basic ${Buffer.from('u:p').toString('base64')}`;
      assert.equal((await call(auth.url, '/version', { headers: { authorization: basic } })).text, '3.8.1');
      assert.equal((await postOtlp(auth, { 'content-type': PROTOBUF, 'x-mlflow-experiment-id': '0' })).status, 401);
    } finally {
      await auth.close();
    }
    const proxied = await startFakeMlflow({ proxy: { token: 'secret' } });
    try {
      const missing = await call(proxied.url, '/version');
      assert.deepEqual([missing.status, missing.headers.get('server')], [401, 'nginx/1.25.3']);
      const wrong = await call(proxied.url, '/version', { headers: { authorization: 'Bearer nope' } });
      assert.equal(wrong.status, 403);
      const right = await call(proxied.url, '/version', { headers: { authorization: 'Bearer secret' } });
      assert.deepEqual([right.status, right.headers.get('server')], [200, 'uvicorn']);
    } finally {
      await proxied.close();
    }
  });

  it('answers Flask 404 on /v1/traces when the OTLP route is absent', async () => {
    await withMlflow({ otlpRoute: false }, async (fake, experimentId) => {
      const answer = await postOtlp(fake, { 'content-type': PROTOBUF, 'x-mlflow-experiment-id': experimentId });
      assert.deepEqual([answer.status, answer.contentType], [404, 'text/html; charset=utf-8']);
    });
  });
});

describe('fake Databricks workspace', () => {
  async function withWorkspace(run: (fake: FakeDatabricks) => Promise<void>, cloud: 'azure' | 'aws' = 'azure'): Promise<void> {
    const fake = await startFakeDatabricks({
      pat: 'dapi-test',
      oauth: { clientId: 'client', clientSecret: 'shh' },
      ucTables: ['main.traces.app_otel_spans'],
      cloud,
    });
    try {
      await run(fake);
    } finally {
      await fake.close();
    }
  }
  const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

  it('issues OAuth M2M tokens, refuses bad credentials and expired tokens', async () => {
    await withWorkspace(async (fake) => {
      const form = 'grant_type=client_credentials&scope=all-apis';
      const formHeaders = (secret: string): Record<string, string> => ({
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`client:${secret}`).toString('base64')}`,
      });
      const wrong = await call(fake.url, '/oidc/v1/token', { method: 'POST', headers: formHeaders('nope'), body: form });
      assert.deepEqual([wrong.status, (json(wrong) as { error: string }).error], [401, 'invalid_client']);
      const issued = json(await call(fake.url, '/oidc/v1/token', { method: 'POST', headers: formHeaders('shh'), body: form })) as Record<
        string,
        unknown
      >;
      assert.deepEqual([issued.token_type, issued.expires_in, fake.issuedTokens], ['Bearer', 3600, [issued.access_token]]);
      const path = '/api/2.0/mlflow/experiments/get-by-name?experiment_name=/Users/a@b.com/none';
      const missing = await call(fake.url, path, { headers: bearer(String(issued.access_token)) });
      assert.deepEqual(
        [missing.status, json(missing)],
        [404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'Node /Users/a@b.com/none does not exist.' }],
      );
      fake.expireAllTokens();
      const expired = await call(fake.url, path, { headers: bearer(String(issued.access_token)) });
      assert.deepEqual([expired.status, json(expired)], [403, { error_code: 403, message: 'Invalid access token.' }]);
      assert.equal((await call(fake.url, path)).status, 401);
      assert.equal((await call(fake.url, path, { headers: bearer('dapi-test') })).status, 404);
    });
  });

  it('creates experiments only under existing workspace folders', async () => {
    await withWorkspace(async (fake) => {
      const create = (name: string): Promise<Answer> =>
        postJson(fake.url, '/api/2.0/mlflow/experiments/create', { name }, bearer('dapi-test'));
      assert.equal((await create('/Users/a@b.com/app')).status, 200);
      assert.equal((await create('/Users/a@b.com/app')).status, 400);
      assert.equal((await create('relative')).status, 400);
      const noParent = await create('/Users/a@b.com/folder/app');
      assert.deepEqual(
        [noParent.status, (json(noParent) as { message: string }).message],
        [404, 'Parent directory /Users/a@b.com/folder does not exist.'],
      );
    });
  });

  for (const cloud of ['azure', 'aws'] as const) {
    it(`logs a trace over REST with a signed ${cloud} upload that must not carry Authorization`, async () => {
      await withWorkspace(async (fake) => {
        const experimentId = fake.createExperiment('/Users/a@b.com/app');
        assert.equal((await postJson(fake.url, '/api/3.0/mlflow/traces', startTraceBody(experimentId), bearer('dapi-test'))).status, 200);
        const credentials = json(
          await call(fake.url, `/api/2.0/mlflow/traces/tr-${TRACE_HEX}/credentials-for-data-upload`, { headers: bearer('dapi-test') }),
        ) as {
          credential_info: { signed_uri: string; type: string; headers?: { name: string; value: string }[] };
        };
        const { signed_uri: signedUri, type } = credentials.credential_info;
        assert.equal(type, cloud === 'azure' ? 'AZURE_SAS_URI' : 'AWS_PRESIGNED_URL');
        const listed = Object.fromEntries((credentials.credential_info.headers ?? []).map((h) => [h.name, h.value]));
        const body = '{"spans": []}';
        const withAuth = await fetch(signedUri, { method: 'PUT', headers: { ...listed, ...bearer('dapi-test') }, body });
        assert.equal(withAuth.status, 400);
        if (cloud === 'azure') assert.equal((await fetch(signedUri, { method: 'PUT', body })).status, 400);
        const upload = await fetch(signedUri, { method: 'PUT', headers: listed, body });
        assert.equal(upload.status, cloud === 'azure' ? 201 : 200);
        assert.equal(fake.uploads.length, 1);
        assert.equal(fake.uploads[0]?.traceId, `tr-${TRACE_HEX}`);
        const download = json(
          await call(fake.url, `/api/2.0/mlflow/traces/tr-${TRACE_HEX}/credentials-for-data-download`, { headers: bearer('dapi-test') }),
        ) as {
          credential_info: { signed_uri: string };
        };
        assert.equal(await (await fetch(download.credential_info.signed_uri)).text(), body);
        assert.equal(fake.store.getTrace(`tr-${TRACE_HEX}`)?.loggedVia, 'rest');
        const get = await call(fake.url, `/api/3.0/mlflow/traces/get?trace_id=tr-${TRACE_HEX}`, { headers: bearer('dapi-test') });
        assert.equal(get.status, 404);
      }, cloud);
    });
  }

  it('takes protobuf spans into a known Unity Catalog table only', async () => {
    await withWorkspace(async (fake) => {
      const headers = { ...bearer('dapi-test'), 'content-type': PROTOBUF };
      const body = protobufOf(threeSpans());
      assert.equal((await call(fake.url, '/api/2.0/otel/v1/traces', { method: 'POST', headers, body })).status, 400);
      const unknown = await call(fake.url, '/api/2.0/otel/v1/traces', {
        method: 'POST',
        headers: { ...headers, 'x-databricks-uc-table-name': 'main.x.y_otel_spans' },
        body,
      });
      assert.equal(unknown.status, 404);
      const stored = await call(fake.url, '/api/2.0/otel/v1/traces', {
        method: 'POST',
        headers: { ...headers, 'x-databricks-uc-table-name': 'main.traces.app_otel_spans' },
        body,
      });
      assert.equal(stored.status, 200);
      assert.deepEqual(
        fake.ucSpans.map((entry) => [entry.table, entry.spans.length]),
        [['main.traces.app_otel_spans', 3]],
      );
      assert.equal(fake.ucSpans[0]?.spans[0]?.attributes['mlflow.spanType'], 'AGENT');
      assert.equal((await call(fake.url, '/v1/traces', { method: 'POST', headers, body })).status, 404);
    });
  });
});
