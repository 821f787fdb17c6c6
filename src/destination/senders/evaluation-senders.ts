import { feedbackRequest, isFeedbackAnswer } from '../../mlflow/assessments.ts';
import type { MlflowHttp, MlflowRequest } from '../../mlflow/http.ts';
import { proxiedArtifactPath } from '../../mlflow/run-artifacts.ts';
import { createRunRequest, endRunRequest, isRunAnswer, linkRequests, logBatchRequests, runFromAnswer } from '../../mlflow/runs.ts';
import type { SuiteRunRecord, SuiteRunStep, StoredScore } from '../evaluation-items.ts';
import type { DeliveryOutcome, ExpectedAnswer } from '../classify-answer.ts';
import type { Sender } from '../sender.ts';
import { mlflowStep } from './mlflow-step.ts';

/** The run artifact holding one line per asked question: its answer, verdict and scores. */
export const RESULTS_ARTIFACT = 'suite-results.jsonl';
/** MLflow's metadata key naming the run an assessment was made in (mlflow.entities.assessment). */
const SOURCE_RUN_METADATA = 'mlflow.assessment.sourceRunId';
/** log-batch, update, link-to-run and the artifact proxy answer `{}`. */
const EMPTY_OBJECT: ExpectedAnswer = { kind: 'mlflow-json' };

export interface EvaluationSenderOptions {
  description: string;
  http: MlflowHttp;
  experimentId: string;
  /** A step of a run's delivery is done: recorded at once, so whoever delivers it next resumes after it. */
  recordStep(id: string, step: SuiteRunStep, runId?: string): void;
}

/**
 * A suite run into MLflow, one run per request: the run created where it does not exist yet, its
 * traces linked, params/metrics/tags logged, `suite-results.jsonl` uploaded, the run ended. Each step
 * done is recorded, so a later try resumes where this one stopped.
 */
export function suiteRunSender(options: EvaluationSenderOptions): Sender<SuiteRunRecord> {
  const { http } = options;
  return oneAtATime(options.description, async (run) => {
    const done = new Set(run.doneSteps);
    let runId = run.runId;
    let artifactUri: string | undefined;
    let note: string | undefined;
    const step = async (
      name: SuiteRunStep,
      requests: () => MlflowRequest[],
      expected: ExpectedAnswer,
      what: string,
    ): Promise<DeliveryOutcome | undefined> => {
      if (done.has(name)) return undefined;
      for (const request of requests()) {
        const result = await mlflowStep(http, request, expected, what);
        if (!result.ok) return result.outcome;
        if (name === 'create') {
          const created = runFromAnswer(result.response.json as Parameters<typeof runFromAnswer>[0]);
          runId = created.runId;
          artifactUri = created.artifactUri;
        }
      }
      done.add(name);
      options.recordStep(run.id, name, runId ?? undefined);
      return undefined;
    };
    const failed =
      (await step(
        'create',
        () => [createRunRequest({ experimentId: options.experimentId, name: run.name, startTime: run.startedAt, tags: run.tags })],
        { kind: 'mlflow-json', has: isRunAnswer, what: 'the run' },
        'creating the run',
      )) ??
      // Linking is idempotent, and a run made after its traces (MLflow was down) has no other link.
      (await step('link', () => linkRequests(runId!, run.traceIds), EMPTY_OBJECT, 'linking its traces')) ??
      (await step(
        'log',
        () => logBatchRequests(runId!, { params: run.params, metrics: run.metrics, tags: run.tags, timestamp: run.endedAt }),
        EMPTY_OBJECT,
        'logging params and metrics',
      )) ??
      (await uploadResults()) ??
      (run.ownRun
        ? await step('end', () => [endRunRequest(runId!, run.endStatus, run.endedAt)], EMPTY_OBJECT, 'ending the run')
        : undefined);
    // What the run went without is kept with it, for the summary.
    return failed ?? { kind: 'delivered', ...(note && { note }) };

    async function uploadResults(): Promise<DeliveryOutcome | undefined> {
      if (done.has('artifact')) return undefined;
      if (!artifactUri) {
        const found = await mlflowStep(
          http,
          { method: 'GET', path: '/api/2.0/mlflow/runs/get', query: { run_id: runId! } },
          { kind: 'mlflow-json', has: isRunAnswer, what: 'the run' },
          'reading the run',
        );
        if (!found.ok) return found.outcome;
        artifactUri = runFromAnswer(found.response.json as Parameters<typeof runFromAnswer>[0]).artifactUri;
      }
      let path: string;
      try {
        path = proxiedArtifactPath(artifactUri, RESULTS_ARTIFACT);
      } catch (error) {
        // An artifact root this tool cannot write (Databricks, s3://): the run goes on without the file.
        note = `${RESULTS_ARTIFACT} not uploaded: ${(error as Error).message}`;
        done.add('artifact');
        options.recordStep(run.id, 'artifact', runId!);
        return undefined;
      }
      return step(
        'artifact',
        () => [{ method: 'PUT', path, body: run.results, headers: { 'Content-Type': 'application/x-ndjson' } }],
        EMPTY_OBJECT,
        `uploading ${RESULTS_ARTIFACT}`,
      );
    }
  });
}

/** A score becomes feedback on its trace, one per request; a trace MLflow does not have yet makes it wait. */
export function scoreSender(
  options: Pick<EvaluationSenderOptions, 'description' | 'http'> & { recordAssessment(id: number, assessmentId: string): void },
): Sender<StoredScore> {
  return oneAtATime(options.description, async (score) => {
    const request = feedbackRequest(
      score.traceId,
      {
        name: score.name,
        value: score.value,
        source: score.source,
        rationale: score.rationale,
        metadata: { 'otel-mlflow.passed': String(score.passed), ...(score.runId && { [SOURCE_RUN_METADATA]: score.runId }) },
      },
      new Date(score.createdAt),
    );
    const result = await mlflowStep(
      options.http,
      request,
      { kind: 'mlflow-json', has: isFeedbackAnswer, what: 'an assessment' },
      `logging score '${score.name}'`,
    );
    if (result.ok) {
      options.recordAssessment(score.id, (result.response.json as { assessment: { assessment_id: string } }).assessment.assessment_id);
      return { kind: 'delivered' };
    }
    if (result.outcome.status === 404 && /RESOURCE_DOES_NOT_EXIST/.test(result.outcome.answer)) {
      return { kind: 'retry', scope: 'item', status: 404, answer: `its trace ${score.traceId} is not in MLflow yet` };
    }
    return result.outcome;
  });
}

/** A sender of one item per request: a run's several calls, or one score, never batched. */
function oneAtATime<Item>(description: string, send: (item: Item) => Promise<DeliveryOutcome>): Sender<Item> {
  return { description, maxItemsPerRequest: 1, maxBytesPerRequest: Number.POSITIVE_INFINITY, send: ([item]) => send(item!) };
}
