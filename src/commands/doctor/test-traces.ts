import { SpanStatusCode, context, trace, type Tracer } from '@opentelemetry/api';
import { setSpanInputs, setSpanOutputs, setSpanType, setTokenUsage } from '../../tracing/encode-attributes.ts';
import { MlflowAttr } from '../../tracing/mlflow-attributes.ts';
import { mlflowTraceId } from '../../tracing/trace-id.ts';

/** The shape every test trace must have when read back: the old demo's simple trace. */
export const TEST_TRACE_SPANS = ['agent_execution', 'preprocess', 'llm_call', 'postprocess'] as const;
export const TEST_TRACE_TAG = 'otel_mlflow.doctor_run';

export interface SentTestTrace {
  traceId: string;
  question: string;
  answer: string;
  usage: { input: number; output: number };
}

const QUESTIONS = [
  'What is MLflow tracing?',
  'How does OpenTelemetry propagate trace context?',
  'Where do Databricks experiments store traces?',
  'What does a span type tell the MLflow UI?',
];

/**
 * Builds one trace shaped like the old demo's `agent_execution → preprocess, llm_call, postprocess`,
 * with span types, chat-shaped inputs and outputs, and token usage on the LLM span only. No LLM is
 * called: the "model" answers from a fixed table, so the trace content is known and checkable.
 */
export function sendTestTrace(tracer: Tracer, index: number, runId: string): SentTestTrace {
  const question = QUESTIONS[index % QUESTIONS.length]!;
  const answer = `Test answer ${index + 1} from otel-mlflow doctor (run ${runId}).`;
  const usage = { input: 12 + index, output: 9 + index };
  const messages = [
    { role: 'system', content: 'You are the otel-mlflow doctor test agent.' },
    { role: 'user', content: question },
  ];
  const response = {
    id: `doctor-${runId}-${index}`,
    object: 'chat.completion',
    model: 'otel-mlflow-doctor',
    choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop' }],
    usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output },
  };

  const root = tracer.startSpan('agent_execution', {
    attributes: {
      [`${MlflowAttr.traceTagPrefix}${TEST_TRACE_TAG}`]: runId,
      'session.id': `otel-mlflow-doctor-${runId}`,
    },
  });
  setSpanType(root, 'AGENT');
  setSpanInputs(root, { messages });
  const parent = trace.setSpan(context.active(), root);

  const child = (name: string, fill: (span: ReturnType<Tracer['startSpan']>) => void) => {
    const span = tracer.startSpan(name, {}, parent);
    fill(span);
    span.setStatus({ code: SpanStatusCode.OK });
    span.end();
  };
  child('preprocess', (span) => {
    setSpanType(span, 'PARSER');
    setSpanInputs(span, { query: question });
    setSpanOutputs(span, { messages });
  });
  child('llm_call', (span) => {
    setSpanType(span, 'LLM');
    span.setAttributes({
      [MlflowAttr.messageFormat]: 'openai',
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'otel-mlflow',
      'gen_ai.request.model': 'otel-mlflow-doctor',
      'gen_ai.response.model': 'otel-mlflow-doctor',
    });
    setSpanInputs(span, { messages, model: 'otel-mlflow-doctor' });
    setSpanOutputs(span, response);
    setTokenUsage(span, usage);
  });
  child('postprocess', (span) => {
    setSpanType(span, 'CHAIN');
    setSpanInputs(span, { text: answer });
    setSpanOutputs(span, { answer });
  });

  setSpanOutputs(root, { choices: response.choices });
  root.setStatus({ code: SpanStatusCode.OK });
  root.end();
  return { traceId: mlflowTraceId(root.spanContext().traceId), question, answer, usage };
}
