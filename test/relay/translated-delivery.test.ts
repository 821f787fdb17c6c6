import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAuthProvider } from '../../src/workspace-auth/auth.ts';
import { createMlflowHttp } from '../../src/mlflow/http.ts';
import { encodeLocalTrace } from '../../src/destination/encode-trace.ts';
import type { OutgoingTrace, Sender } from '../../src/destination/sender.ts';
import { otlpSender } from '../../src/destination/senders/otlp-sender.ts';
import { restSender } from '../../src/destination/senders/rest-sender.ts';
import type { LocalSpan } from '../../src/spans/local-span.ts';
import { toMlflowSpan } from '../../src/relay/translate-span.ts';
import { MLFLOW_VERSIONS, startFakeMlflow, type FakeMlflow } from '../fakes/fake-mlflow.ts';
import { genAiOnlyTrace, HEX, QUESTION } from './genai-only-trace.ts';

/** An OpenInference app (Phoenix's instrumentors): a CHAIN root with an LLM child carrying token counts. */
function openInferenceTrace(): LocalSpan[] {
  const [root, chat] = genAiOnlyTrace();
  return [
    {
      ...root!,
      name: 'RunnableSequence',
      attributes: {
        'openinference.span.kind': 'CHAIN',
        'input.value': JSON.stringify({ messages: [{ role: 'user', content: QUESTION }] }),
        'output.value': 'Paris.',
      },
    },
    {
      ...chat!,
      name: 'ChatOpenAI',
      attributes: {
        'openinference.span.kind': 'LLM',
        'llm.input_messages.0.message.role': 'user',
        'llm.input_messages.0.message.content': QUESTION,
        'llm.output_messages.0.message.role': 'assistant',
        'llm.output_messages.0.message.content': 'Paris.',
        'llm.token_count.prompt': 10,
        'llm.token_count.completion': 4,
        'llm.token_count.total': 14,
      },
    },
  ];
}

function otlpTo(server: FakeMlflow, experimentId: string): Sender<OutgoingTrace> {
  return otlpSender({
    description: 'fake MLflow',
    http: httpFor(server),
    path: '/v1/traces',
    headers: { 'x-mlflow-experiment-id': experimentId },
    encoding: 'protobuf',
    gzip: server.version !== '3.6.0',
  });
}

function httpFor(server: FakeMlflow) {
  return createMlflowHttp({ baseUrl: server.url, auth: createAuthProvider({ kind: 'none' }, { host: server.url }) });
}

async function deliver(destination: Sender<OutgoingTrace>, spans: LocalSpan[]): Promise<void> {
  const trace: OutgoingTrace = { hex: HEX, traceId: `tr-${HEX}`, otlp: encodeLocalTrace(spans).otlp, attempts: 0 };
  const outcome = await destination.send([trace]);
  assert.equal(outcome.kind, 'delivered', JSON.stringify(outcome));
}

describe('relayed traces, translated, on every MLflow version', () => {
  for (const version of MLFLOW_VERSIONS) {
    it(`MLflow ${version}: a GenAI-convention-only trace shows span types, previews and the token total, counted once`, async () => {
      const server = await startFakeMlflow({ version });
      try {
        const experimentId = server.createExperiment('relay');
        await deliver(otlpTo(server, experimentId), genAiOnlyTrace().map(toMlflowSpan));
        const [trace] = server.store.traces(experimentId);
        assert.ok(trace);
        assert.equal(trace.info.state, 'OK');
        assert.equal(trace.info.request_preview, QUESTION);
        assert.equal(trace.info.response_preview, 'Paris.');
        assert.deepEqual(JSON.parse(trace.info.trace_metadata?.['mlflow.trace.tokenUsage'] ?? 'null'), {
          input_tokens: 12,
          output_tokens: 7,
          total_tokens: 19,
        });
        const typeOf = (name: string) => trace.spans.find((span) => span.name === name)?.attributes['mlflow.spanType'];
        assert.equal(typeOf('invoke_agent geo-agent'), 'AGENT');
        assert.equal(typeOf('chat gpt-4o-mini'), 'CHAT_MODEL');
        assert.equal(typeOf('execute_tool lookup_capital'), 'TOOL');
        const tool = trace.spans.find((span) => span.name === 'execute_tool lookup_capital')!;
        assert.deepEqual(tool.attributes['mlflow.spanInputs'], { country: 'France' });
        const chat = trace.spans.find((span) => span.name === 'chat gpt-4o-mini')!;
        assert.equal(chat.attributes['gen_ai.request.model'], 'gpt-4o-mini', "the client's attributes arrive too");
        const root = trace.spans.find((span) => span.parentSpanId === null)!;
        assert.equal(root.attributes['mlflow.traceRequestId'], `tr-${HEX}`, 'the id MLflow derived, not one the client sent');
      } finally {
        await server.close();
      }
    });
  }

  for (const version of MLFLOW_VERSIONS) {
    it(`MLflow ${version}: an OpenInference trace shows its span types, request preview and one token total`, async () => {
      const server = await startFakeMlflow({ version });
      try {
        const experimentId = server.createExperiment('relay');
        await deliver(otlpTo(server, experimentId), openInferenceTrace().map(toMlflowSpan));
        const [trace] = server.store.traces(experimentId);
        assert.ok(trace);
        assert.equal(trace.info.request_preview, QUESTION);
        assert.equal(JSON.parse(trace.info.trace_metadata?.['mlflow.trace.tokenUsage'] ?? 'null')?.total_tokens, 14);
        assert.deepEqual(trace.spans.map((span) => span.attributes['mlflow.spanType']).sort(), ['CHAIN', 'LLM']);
      } finally {
        await server.close();
      }
    });
  }

  it('MLflow 3.6.0 shows none of a GenAI-only trace untranslated: the translation is what makes the difference', async () => {
    const server = await startFakeMlflow({ version: '3.6.0' });
    try {
      const experimentId = server.createExperiment('relay');
      await deliver(otlpTo(server, experimentId), genAiOnlyTrace());
      const [trace] = server.store.traces(experimentId);
      assert.ok(trace);
      assert.equal(trace.info.request_preview, undefined);
      assert.equal(trace.info.trace_metadata?.['mlflow.trace.tokenUsage'], undefined);
      assert.ok(trace.spans.every((span) => span.attributes['mlflow.spanType'] === undefined));
    } finally {
      await server.close();
    }
  });

  it('over MLflow REST (a file-store server) a GenAI-only trace shows the same', async () => {
    const server = await startFakeMlflow({ version: '3.8.1', backend: 'file' });
    try {
      const experimentId = server.createExperiment('relay');
      const destination = restSender({
        description: 'fake MLflow',
        http: httpFor(server),
        experimentId,
        artifactUpload: 'mlflow-artifacts',
      });
      await deliver(destination, genAiOnlyTrace().map(toMlflowSpan));
      const [trace] = server.store.traces(experimentId);
      assert.ok(trace);
      assert.equal(trace.loggedVia, 'rest');
      assert.equal(trace.info.request_preview, QUESTION);
      assert.equal(trace.info.response_preview, 'Paris.');
      assert.equal(JSON.parse(trace.info.trace_metadata?.['mlflow.trace.tokenUsage'] ?? 'null')?.total_tokens, 19);
      assert.deepEqual(trace.spans.map((span) => span.attributes['mlflow.spanType']).sort(), ['AGENT', 'CHAT_MODEL', 'TOOL']);
    } finally {
      await server.close();
    }
  });
});
