/**
 * How each observed MLflow server version behaves (samples in /work/shared/mlflow-samples/<version>/,
 * summary in mlflow-protocol.md §2). Adding a version is one row.
 */

export const MLFLOW_VERSIONS = ['3.6.0', '3.7.0', '3.8.1', '3.11.1', '3.12.1.dev0', '3.14.1.dev0'] as const;
export type MlflowVersion = (typeof MLFLOW_VERSIONS)[number];

export interface MlflowBehaviour {
  /** 200 body of POST /v1/traces: 3.6 sends `{"partialSuccess":null}` labelled protobuf. */
  otlpSuccessBody: string;
  /** Content-Encoding is decompressed (3.6 parses the gzip bytes as protobuf and fails). */
  decompresses: boolean;
  /** OTLP/JSON accepted, and `; charset=...` parameters ignored (before: Content-Type must equal `application/x-protobuf`). */
  acceptsJson: boolean;
  /** Wording of undecodable-body errors: "Invalid OpenTelemetry protobuf format" before JSON support. */
  formatWord: 'OpenTelemetry protobuf format' | 'OpenTelemetry format';
  /** FastAPI's 422 for the missing header: pydantic v1 wording up to 3.8. */
  missingHeaderStyle: 'pydantic1' | 'pydantic2';
  /**
   * `per-trace`: each trace stored on its own, failures gathered into one 422 "Failed to log
   * OpenTelemetry spans: Trace tr-…: …" (up to 3.8). `all-or-nothing`: one store call; MLflow
   * errors come back as their JSON with their status (3.11+).
   */
  ingest: 'per-trace' | 'all-or-nothing';
  /** What an empty `x-mlflow-experiment-id` does beyond the per-trace 422. */
  emptyExperimentHeader: 'per-trace-error' | 'bad-request' | 'key-error' | 'silently-dropped';
  /** A span whose span id is empty is stored as span 0 (up to 3.8) or refused with 422. */
  acceptsEmptySpanId: boolean;
  /** Which OTel string attributes are kept as JSON: none (3.6 quotes every string), objects, or objects and arrays. */
  keepsJsonStrings: 'none' | 'objects' | 'objects-and-arrays';
  /** `session.id` / `user.id` copied into trace metadata, and how. */
  sessionUserMetadata: 'none' | 'session-quoted' | 'both-quoted' | 'both-plain';
  /** Root-span `mlflow.traceTag.<k>` becomes trace tag `<k>`. */
  rootSpanTraceTags: boolean;
  /** Resource attributes become trace tags. */
  resourceAttributesAsTags: boolean;
  /** gen_ai.* semantic conventions translated into mlflow.* span attributes when those are absent. */
  translatesGenAi: boolean;
  /** mlflow.llm.model / mlflow.llm.provider derived from gen_ai.* request attributes. */
  derivesLlmModel: boolean;
  /** OpenInference `llm.token_count.*` translated into mlflow.chat.tokenUsage. */
  translatesOpenInferenceTokens: boolean;
  /** The server's own `mlflow.traceRequestId` is written after the client's attributes. */
  requestIdAttributeLast: boolean;
  /** traces.json spans carry `"links": []`. */
  artifactSpanLinks: boolean;
  /** GET /api/3.0/mlflow/traces/get exists (3.6 routes it to traces/{id} with id "get"). */
  hasTracesGet: boolean;
  /** /ajax-api/3.0/mlflow/get-trace-artifact exists beside the 2.0 one. */
  hasAjaxV3TraceArtifact: boolean;
  /** MLflow JSON errors carry `sqlstate` and `error_class`. */
  errorClasses: boolean;
  /** Experiments carry `"workspace": "default"`. */
  experimentWorkspace: boolean;
  /** `x-mlflow-run-id` on /v1/traces links the traces whose root span the request carries to that run. */
  otlpRunHeader: boolean;
}

const v36: MlflowBehaviour = {
  otlpSuccessBody: '{"partialSuccess":null}',
  decompresses: false,
  acceptsJson: false,
  formatWord: 'OpenTelemetry protobuf format',
  missingHeaderStyle: 'pydantic1',
  ingest: 'per-trace',
  emptyExperimentHeader: 'per-trace-error',
  acceptsEmptySpanId: true,
  keepsJsonStrings: 'none',
  sessionUserMetadata: 'none',
  rootSpanTraceTags: false,
  resourceAttributesAsTags: false,
  translatesGenAi: false,
  derivesLlmModel: false,
  translatesOpenInferenceTokens: false,
  requestIdAttributeLast: false,
  artifactSpanLinks: false,
  hasTracesGet: false,
  hasAjaxV3TraceArtifact: false,
  errorClasses: false,
  experimentWorkspace: false,
  otlpRunHeader: false,
};

const v37: MlflowBehaviour = {
  ...v36,
  otlpSuccessBody: '',
  decompresses: true,
  keepsJsonStrings: 'objects',
  sessionUserMetadata: 'session-quoted',
  hasTracesGet: true,
};

const v38: MlflowBehaviour = { ...v37, translatesGenAi: true };

const v311: MlflowBehaviour = {
  ...v38,
  missingHeaderStyle: 'pydantic2',
  ingest: 'all-or-nothing',
  emptyExperimentHeader: 'bad-request',
  acceptsEmptySpanId: false,
  keepsJsonStrings: 'objects-and-arrays',
  derivesLlmModel: true,
  hasAjaxV3TraceArtifact: true,
};

const v312: MlflowBehaviour = {
  ...v311,
  acceptsJson: true,
  formatWord: 'OpenTelemetry format',
  emptyExperimentHeader: 'key-error',
  sessionUserMetadata: 'both-quoted',
  rootSpanTraceTags: true,
  translatesOpenInferenceTokens: true,
  requestIdAttributeLast: true,
  artifactSpanLinks: true,
  errorClasses: true,
};

const v314: MlflowBehaviour = {
  ...v312,
  emptyExperimentHeader: 'silently-dropped',
  sessionUserMetadata: 'both-plain',
  resourceAttributesAsTags: true,
  experimentWorkspace: true,
  otlpRunHeader: true,
};

export const MLFLOW_BEHAVIOUR: Record<MlflowVersion, MlflowBehaviour> = {
  '3.6.0': v36,
  '3.7.0': v37,
  '3.8.1': v38,
  '3.11.1': v311,
  '3.12.1.dev0': v312,
  '3.14.1.dev0': v314,
};
