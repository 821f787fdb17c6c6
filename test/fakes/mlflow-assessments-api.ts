import { randomBytes } from 'node:crypto';
import type { Exchange, Reply } from './exchange.ts';
import { MlflowError } from './mlflow-errors.ts';
import { prettyJson, requestJson, type RestDialect } from './mlflow-rest-api.ts';

/**
 * `POST /api/3.0/mlflow/traces/{trace_id}/assessments` (CreateAssessment), as the SQL store keeps
 * it: the trace must exist, the name must be set and have no ".", the source must say its type,
 * and feedback values are numbers, booleans, strings or lists of strings. The assessment then
 * shows in the trace's `trace_info.assessments`.
 */
const SOURCE_TYPES = ['HUMAN', 'LLM_JUDGE', 'CODE'];

type Json = Record<string, unknown>;

export function createAssessment(dialect: RestDialect, exchange: Exchange, traceId: string): Reply {
  const body = requestJson(exchange);
  const raw = body.assessment;
  if (typeof raw !== 'object' || raw === null) {
    throw new MlflowError(
      'INVALID_PARAMETER_VALUE',
      "Missing value for required parameter 'assessment'. See the API docs for more information about request parameters.",
    );
  }
  const assessment = raw as Json;
  const name = assessment.assessment_name;
  if (typeof name !== 'string' || name === '') {
    throw new MlflowError('INVALID_PARAMETER_VALUE', "Missing value for required parameter 'assessment_name'.");
  }
  if (name.includes('.')) throw new MlflowError('INVALID_PARAMETER_VALUE', `Assessment name '${name}' must not contain '.'`);
  const source = assessment.source as Json | undefined;
  const sourceType = source?.source_type;
  if (typeof sourceType !== 'string' || !SOURCE_TYPES.includes(sourceType)) {
    throw new MlflowError(
      'INVALID_PARAMETER_VALUE',
      `Invalid assessment source type: ${String(sourceType)}. Must be one of ${SOURCE_TYPES.join(', ')}`,
    );
  }
  const feedback = assessment.feedback as Json | undefined;
  if (feedback !== undefined && !isFeedbackValue(feedback.value)) {
    throw new MlflowError(
      'INVALID_PARAMETER_VALUE',
      `Invalid feedback value: ${JSON.stringify(feedback.value)}. Supported values are numbers, booleans, strings and lists of strings.`,
    );
  }
  const now = new Date().toISOString();
  const stored: Json = {
    assessment_id: `a-${randomBytes(16).toString('hex')}`,
    assessment_name: name,
    trace_id: traceId,
    source: { source_type: sourceType, source_id: String(source?.source_id ?? '') },
    create_time: typeof assessment.create_time === 'string' ? assessment.create_time : now,
    last_update_time: typeof assessment.last_update_time === 'string' ? assessment.last_update_time : now,
    ...(feedback !== undefined && { feedback: { value: feedback.value } }),
    ...(assessment.expectation !== undefined && { expectation: assessment.expectation }),
    ...(typeof assessment.rationale === 'string' && { rationale: assessment.rationale }),
    ...(typeof assessment.metadata === 'object' && assessment.metadata !== null && { metadata: assessment.metadata }),
    valid: true,
  };
  if (!dialect.store.addAssessment(traceId, stored)) {
    throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Trace with ID '${traceId}' not found.`);
  }
  return prettyJson({ assessment: stored });
}

function isFeedbackValue(value: unknown): boolean {
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') return true;
  return Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string');
}
