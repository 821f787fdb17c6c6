import { notAnswered } from './errors.ts';
import type { MlflowHttp, MlflowRequest } from './http.ts';

/** Who gave an assessment (MLflow's AssessmentSource.SourceType). */
type AssessmentSourceType = 'HUMAN' | 'LLM_JUDGE' | 'CODE';

/** A feedback assessment as MLflow keeps it on a trace (mlflow/protos/assessments.proto). */
export interface Feedback {
  name: string;
  /** MLflow takes numbers, booleans, strings and lists of strings as feedback values. */
  value: boolean | number | string;
  source: { type: AssessmentSourceType; id: string };
  rationale?: string;
  /** String values only: MLflow's `map<string, string>`. */
  metadata?: Record<string, string>;
}

export interface LoggedFeedback extends Feedback {
  assessmentId: string;
  traceId: string;
}

interface AssessmentJson {
  assessment_id?: string;
  assessment_name: string;
  trace_id?: string;
  source?: { source_type?: AssessmentSourceType; source_id?: string };
  feedback?: { value?: boolean | number | string };
  rationale?: string;
  metadata?: Record<string, string>;
}

/**
 * `POST /api/3.0/mlflow/traces/{trace_id}/assessments` with feedback, as the Python client's
 * `mlflow.log_feedback()` sends it (every MLflow from 3.6 has the route). A trace the server does not
 * know answers 404 RESOURCE_DOES_NOT_EXIST; a bad name or value 400 INVALID_PARAMETER_VALUE: both
 * throw MlflowApiError.
 */
export async function logFeedback(http: MlflowHttp, traceId: string, feedback: Feedback, createdAt: Date): Promise<LoggedFeedback> {
  const request = feedbackRequest(traceId, feedback, createdAt);
  const answer = await http.request<{ assessment?: AssessmentJson }>(request);
  if (!isFeedbackAnswer(answer)) throw notAnswered(request.method, request.path, 'an assessment');
  return toFeedback(answer.assessment, traceId);
}

export function feedbackRequest(traceId: string, feedback: Feedback, createdAt: Date): MlflowRequest {
  const time = createdAt.toISOString();
  return {
    method: 'POST',
    path: `/api/3.0/mlflow/traces/${encodeURIComponent(traceId)}/assessments`,
    json: {
      assessment: {
        assessment_name: feedback.name,
        trace_id: traceId,
        source: { source_type: feedback.source.type, source_id: feedback.source.id },
        create_time: time,
        last_update_time: time,
        feedback: { value: feedback.value },
        ...(feedback.rationale !== undefined && { rationale: feedback.rationale }),
        ...(feedback.metadata && { metadata: feedback.metadata }),
      },
    },
  };
}

/** The assessments route answers `{"assessment": {"assessment_id": …}}`. */
export function isFeedbackAnswer(json: unknown): json is { assessment: AssessmentJson & { assessment_id: string } } {
  return typeof (json as { assessment?: { assessment_id?: unknown } } | undefined)?.assessment?.assessment_id === 'string';
}

/** The feedback among a trace's assessments, as `GET /api/3.0/mlflow/traces/{id}` answers them in `trace_info.assessments`. */
export function feedbackOf(assessments: readonly unknown[] | undefined, traceId: string): LoggedFeedback[] {
  return (assessments ?? [])
    .filter((a): a is AssessmentJson => typeof a === 'object' && a !== null && 'feedback' in a)
    .map((a) => toFeedback(a, traceId));
}

function toFeedback(json: AssessmentJson, traceId: string): LoggedFeedback {
  return {
    assessmentId: json.assessment_id ?? '',
    traceId: json.trace_id ?? traceId,
    name: json.assessment_name,
    value: json.feedback?.value ?? '',
    source: { type: json.source?.source_type ?? 'CODE', id: json.source?.source_id ?? '' },
    ...(json.rationale !== undefined && { rationale: json.rationale }),
    ...(json.metadata && { metadata: json.metadata }),
  };
}
