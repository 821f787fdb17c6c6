import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildRestTracePayload } from '../../src/destination/rest-trace-payload.ts';
import { chatTrace, memoryTracer } from './span-fixtures.ts';

/** A span of traces.json, as the tests read it. */
interface SpanJson {
  name: string;
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  attributes: Record<string, string>;
  events: { name: string; time_unix_nano: unknown }[];
  status: { code: string; message?: string };
}

describe('REST trace payload (StartTraceV3 + traces.json)', () => {
  it('registers the trace with the previews, token usage, session and user the OTLP path would show', () => {
    const { tracer, finished } = memoryTracer();
    chatTrace(tracer, { session: 's-1' });
    const spans = finished();
    const payload = buildRestTracePayload(spans, '7');
    const info = payload.startTraceBody.trace.trace_info;
    assert.match(payload.traceId, /^tr-[0-9a-f]{32}$/);
    assert.equal(info.trace_id, payload.traceId);
    assert.deepEqual(info.trace_location, { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: '7' } });
    assert.equal(info.state, 'OK');
    assert.equal(info.request_preview, 'What is 2+2?');
    assert.equal(info.response_preview, 'It is 4.');
    assert.deepEqual(JSON.parse(info.trace_metadata['mlflow.trace.tokenUsage']!), { input_tokens: 12, output_tokens: 5, total_tokens: 17 });
    assert.equal(info.trace_metadata['mlflow.trace.session'], 's-1');
    assert.equal(info.trace_metadata['mlflow.trace.user'], 'u-1');
    assert.equal(info.trace_metadata['mlflow.trace_schema.version'], '3');
    assert.equal(info.tags['mlflow.traceName'], 'agent');
    assert.equal(info.tags['mlflow.trace.spansLocation'], undefined, 'that tag hides the spans in the UI');
    assert.match(info.request_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.match(info.execution_duration, /^\d+\.\d{9}s$/);
  });

  it('writes traces.json with base64 ids, exact nanosecond integers and JSON-encoded attribute strings', () => {
    const { tracer, finished } = memoryTracer();
    chatTrace(tracer);
    const spans = finished();
    const payload = buildRestTracePayload(spans, '7');
    const root = spans.find((s) => s.name === 'agent')!;
    const start = BigInt(root.startTime[0]) * 1_000_000_000n + BigInt(root.startTime[1]);
    assert.ok(payload.tracesJson.includes(`"start_time_unix_nano":${start}`), 'nanoseconds must not be rounded through a JS number');
    const file = JSON.parse(payload.tracesJson) as { spans: SpanJson[] };
    const byName = Object.fromEntries(file.spans.map((s) => [s.name, s])) as Record<'agent' | 'llm' | 'calculator', SpanJson>;
    assert.equal(byName.agent.parent_span_id, null);
    assert.equal(Buffer.from(byName.agent.trace_id, 'base64').toString('hex'), root.spanContext().traceId);
    assert.equal(Buffer.from(byName.agent.span_id, 'base64').toString('hex'), root.spanContext().spanId);
    assert.equal(byName.llm.parent_span_id, byName.agent.span_id);
    for (const span of file.spans) {
      assert.equal(span.attributes['mlflow.traceRequestId'], JSON.stringify(payload.traceId));
      for (const value of Object.values(span.attributes)) assert.doesNotThrow(() => JSON.parse(value));
    }
    assert.equal(byName.llm.attributes['mlflow.spanType'], '"LLM"');
    assert.deepEqual(JSON.parse(byName.llm.attributes['mlflow.chat.tokenUsage']!), {
      input_tokens: 12,
      output_tokens: 5,
      total_tokens: 17,
    });
    assert.deepEqual(JSON.parse(byName.llm.attributes['mlflow.spanInputs']!), { messages: [{ role: 'user', content: 'What is 2+2?' }] });
    assert.equal(byName.llm.attributes['gen_ai.usage.input_tokens'], '12');
    assert.equal(byName.calculator.events[0]!.name, 'tool.note');
    assert.equal(typeof byName.calculator.events[0]!.time_unix_nano, 'number');
    assert.equal(byName.agent.status.code, 'STATUS_CODE_UNSET');
  });

  it('marks a trace whose root failed as ERROR', () => {
    const { tracer, finished } = memoryTracer();
    chatTrace(tracer, { error: true });
    const payload = buildRestTracePayload(finished(), '7');
    assert.equal(payload.startTraceBody.trace.trace_info.state, 'ERROR');
    const root = (JSON.parse(payload.tracesJson).spans as SpanJson[]).find((s) => s.name === 'agent')!;
    assert.deepEqual(root.status, { code: 'STATUS_CODE_ERROR', message: 'boom' });
  });
});
