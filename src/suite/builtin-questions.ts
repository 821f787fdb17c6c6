import type { SuiteQuestion } from './question-file.ts';

/**
 * What someone wiring LLM traces into MLflow asks: each one is answerable from the built-in corpus,
 * so the offline model and RAG give real answers, and a few invite the agent's tools.
 */
export const BUILTIN_QUESTIONS: readonly SuiteQuestion[] = [
  { id: 'mlflow-tracing', question: 'What is MLflow Tracing and what does a trace contain?' },
  { id: 'span-types', question: 'Which span types does MLflow know, and how does the UI use them?' },
  { id: 'token-usage', question: 'How does MLflow compute the token usage of a trace?' },
  { id: 'otlp-to-mlflow', question: 'How do I send OpenTelemetry traces to an MLflow tracking server?' },
  { id: 'otel-attributes', question: 'Which OpenTelemetry span attributes does MLflow read for inputs and outputs?' },
  { id: 'sessions', question: 'How do I group the traces of one conversation into an MLflow session?' },
  { id: 'search-traces', question: 'How can I search MLflow traces by tag or status?' },
  { id: 'traceparent', question: 'How does the W3C traceparent header propagate trace context between services?' },
  { id: 'batch-processor', question: 'Why must a short-lived process flush its span processor before it exits?' },
  { id: 'collector', question: 'What does the OpenTelemetry Collector do, and what is a pipeline?' },
  { id: 'sampling', question: 'How does OpenTelemetry sample traces, and what does parent-based sampling mean?' },
  { id: 'genai-conventions', question: 'What are the OpenTelemetry GenAI semantic conventions for LLM calls?' },
  { id: 'databricks-experiment', question: 'How do I send traces to an MLflow experiment in a Databricks workspace?' },
  { id: 'unity-catalog', question: 'How are traces stored in Unity Catalog tables on Databricks?' },
  { id: 'databricks-auth', question: 'When should I use OAuth machine-to-machine instead of a personal access token on Databricks?' },
  { id: 'serving-endpoints', question: 'What is a Databricks Model Serving endpoint, and who may query it?' },
];
