import type { Expectations } from './eval/evaluation-types.ts';
import type { SuiteQuestion } from './question-file.ts';

/**
 * Budgets loose enough for a real model and the agent's several calls: they catch a runaway answer,
 * not a slow network.
 */
const BUDGETS = { maxLatencyMs: 60_000, maxTokens: 8_000 } satisfies Expectations;

/** What a good answer states, from the corpus passages `cites` names; the agent should search for it. */
function expect(mentions: string[], cites: string[]): Expectations {
  return { mentions, cites, tools: ['search_corpus'], ...BUDGETS };
}

/**
 * What someone wiring LLM traces into MLflow asks: each one is answerable from the built-in corpus,
 * so the offline model and RAG give real answers, and a few invite the agent's tools. The expected
 * mentions are facts from the passage the question is about, not the offline model's wording.
 */
export const BUILTIN_QUESTIONS: readonly SuiteQuestion[] = [
  {
    id: 'mlflow-tracing',
    question: 'What is MLflow Tracing and what does a trace contain?',
    expect: expect(['trace info', 'trace data'], ['mlflow-trace-structure']),
  },
  {
    id: 'span-types',
    question: 'Which span types does MLflow know, and how does the UI use them?',
    expect: expect(['CHAT_MODEL', 'RETRIEVER', 'icon'], ['mlflow-span-types']),
  },
  {
    id: 'token-usage',
    question: 'How does MLflow compute the token usage of a trace?',
    expect: expect(['mlflow.chat.tokenUsage', 'sum', 'input_tokens | input tokens'], ['mlflow-token-usage']),
  },
  {
    id: 'otlp-to-mlflow',
    question: 'How do I send OpenTelemetry traces to an MLflow tracking server?',
    expect: expect(['/v1/traces', 'x-mlflow-experiment-id', 'protobuf'], ['mlflow-otlp-ingest']),
  },
  {
    id: 'otel-attributes',
    question: 'Which OpenTelemetry span attributes does MLflow read for inputs and outputs?',
    expect: expect(['mlflow.* | mlflow.spanInputs', 'gen_ai.'], ['mlflow-otel-mapping']),
  },
  {
    id: 'sessions',
    question: 'How do I group the traces of one conversation into an MLflow session?',
    expect: expect(['mlflow.trace.session', 'metadata'], ['mlflow-sessions-users']),
  },
  {
    id: 'search-traces',
    question: 'How can I search MLflow traces by tag or status?',
    expect: expect(['search_traces', 'trace.status', 'tag.'], ['mlflow-search-traces']),
  },
  {
    id: 'traceparent',
    question: 'How does the W3C traceparent header propagate trace context between services?',
    expect: expect(['trace id', 'parent span id | parent id', 'trace flags'], ['otel-traceparent']),
  },
  {
    id: 'batch-processor',
    question: 'Why must a short-lived process flush its span processor before it exits?',
    expect: expect(['forceFlush | shutdown | flush', 'lost'], ['otel-span-processors']),
  },
  {
    id: 'collector',
    question: 'What does the OpenTelemetry Collector do, and what is a pipeline?',
    expect: expect(['receiver', 'processor', 'exporter'], ['otel-collector', 'otel-collector-pipelines']),
  },
  {
    id: 'sampling',
    question: 'How does OpenTelemetry sample traces, and what does parent-based sampling mean?',
    expect: expect(
      ['ParentBased | parent-based', "caller's decision | parent's decision | parent span's decision", 'head sampling'],
      ['otel-sampling'],
    ),
  },
  {
    id: 'genai-conventions',
    question: 'What are the OpenTelemetry GenAI semantic conventions for LLM calls?',
    expect: expect(['gen_ai.operation.name', 'gen_ai.request.model', 'gen_ai.usage.input_tokens'], ['otel-genai-conventions']),
  },
  {
    id: 'databricks-experiment',
    question: 'How do I send traces to an MLflow experiment in a Databricks workspace?',
    expect: expect(['DATABRICKS_HOST', 'tracking URI', 'REST API'], ['databricks-experiment-traces']),
  },
  {
    id: 'unity-catalog',
    question: 'How are traces stored in Unity Catalog tables on Databricks?',
    expect: expect(['/api/2.0/otel/v1/traces', 'X-Databricks-UC-Table-Name', 'preview'], ['databricks-uc-traces']),
  },
  {
    id: 'databricks-auth',
    question: 'When should I use OAuth machine-to-machine instead of a personal access token on Databricks?',
    expect: expect(['service principal', 'client secret', 'production | automated'], ['databricks-oauth-m2m', 'databricks-pat']),
  },
  {
    id: 'serving-endpoints',
    question: 'What is a Databricks Model Serving endpoint, and who may query it?',
    expect: expect(['Can Query', 'REST', 'OpenAI-compatible'], ['databricks-model-serving', 'databricks-serving-permissions']),
  },
];
