/** Span attribute keys MLflow reads (mlflow/tracing/constant.py) and the GenAI ones it translates. */
export const MlflowAttr = {
  spanType: 'mlflow.spanType',
  spanInputs: 'mlflow.spanInputs',
  spanOutputs: 'mlflow.spanOutputs',
  tokenUsage: 'mlflow.chat.tokenUsage',
  messageFormat: 'mlflow.message.format',
  chatTools: 'mlflow.chat.tools',
  traceRequestId: 'mlflow.traceRequestId',
  llmModel: 'mlflow.llm.model',
  llmProvider: 'mlflow.llm.provider',
  traceTagPrefix: 'mlflow.traceTag.',
} as const;

const SPAN_TYPES = ['AGENT', 'CHAIN', 'CHAT_MODEL', 'LLM', 'RETRIEVER', 'TOOL', 'EMBEDDING', 'PARSER', 'RERANKER', 'UNKNOWN'] as const;
export type SpanType = (typeof SPAN_TYPES)[number];

/**
 * Attributes whose string value is already JSON text. The REST path stores every attribute as a
 * JSON-encoded string, so these go as they are while plain strings get quoted.
 */
export const JSON_VALUED_ATTRIBUTES: ReadonlySet<string> = new Set([
  MlflowAttr.spanInputs,
  MlflowAttr.spanOutputs,
  MlflowAttr.tokenUsage,
  MlflowAttr.chatTools,
  'gen_ai.input.messages',
  'gen_ai.output.messages',
  'gen_ai.system_instructions',
  'gen_ai.tool.definitions',
]);

export interface TokenUsage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
}
