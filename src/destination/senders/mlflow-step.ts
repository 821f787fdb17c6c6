import type { RawResponse } from '../../http-client/send.ts';
import type { MlflowHttp, MlflowRequest } from '../../mlflow/http.ts';
import { classifyAnswer, classifyFailure, type DeliveryOutcome, type ExpectedAnswer } from '../classify-answer.ts';

export type StepResult = { ok: true; response: RawResponse } | { ok: false; outcome: Exclude<DeliveryOutcome, { kind: 'delivered' }> };

/**
 * One request of a delivery that takes several (REST trace logging, a suite run): the answer
 * classified the one way, and a failure named by the step, so a person sees which step failed.
 */
export async function mlflowStep(http: MlflowHttp, request: MlflowRequest, expected: ExpectedAnswer, what: string): Promise<StepResult> {
  let outcome: DeliveryOutcome;
  let response: RawResponse;
  try {
    response = await http.request({ ...request, raw: true });
    outcome = classifyAnswer(response, expected);
  } catch (error) {
    outcome = classifyFailure(error);
  }
  if (outcome.kind === 'delivered') return { ok: true, response: response! };
  return { ok: false, outcome: { ...outcome, answer: `${what} failed: ${outcome.answer}` } };
}
