import { logFeedback } from '../mlflow/assessments.ts';
import { MlflowApiError, UnreachableError } from '../mlflow/errors.ts';
import type { MlflowHttp } from '../mlflow/http.ts';
import { uploadRunArtifact } from '../mlflow/run-artifacts.ts';
import { createRun, endRun, getRun, linkTracesToRun, logRunData } from '../mlflow/runs.ts';
import type { EvaluationState, EvaluationStore, SuiteRunRecord, SuiteRunStep } from '../pipeline/store/evaluation-store.ts';

/** The run artifact holding one line per asked question: its answer, verdict and scores. */
export const RESULTS_ARTIFACT = 'suite-results.jsonl';
/** Longer than one run's delivery (five requests, each with its timeout); a crashed process's claim runs out. */
const CLAIM_MS = 5 * 60_000;
const CLAIMED_ELSEWHERE = 'another process is delivering it';
/** MLflow's metadata key naming the run an assessment was made in (mlflow.entities.assessment). */
const SOURCE_RUN_METADATA = 'mlflow.assessment.sourceRunId';

export interface EvaluationTarget {
  http: MlflowHttp;
  /** The place key (destinationKey without a run) rows wait for. */
  destination: string;
  experimentId: string;
}

export interface DeliveredSuiteRun {
  id: string;
  runId: string | null;
  state: EvaluationState;
  /** Why it is not (all) in MLflow, or what was left out. */
  problem?: string;
  notes: string[];
}

export interface EvaluationDelivery {
  runs: DeliveredSuiteRun[];
  scores: { delivered: number; pending: number; refused: number };
  /** Each distinct reason a score is not in MLflow. */
  scoreProblems: string[];
}

/** Not this request's fault: the server is down, busy or refusing the credentials, so try again later. */
function isPassing(error: unknown): boolean {
  if (error instanceof UnreachableError) return true;
  return error instanceof MlflowApiError && (error.status >= 500 || error.status === 429 || error.status === 401 || error.status === 403 || error.fromProxy);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The one way suite runs and scores reach MLflow, for `suite` right after its traces and for
 * `traces push` later: every pending suite run (the run created where it does not exist yet, its
 * traces linked, params/metrics/tags logged, `suite-results.jsonl` uploaded, the run ended), then
 * every pending score as feedback on its trace. Each step done is recorded, so a later call resumes
 * where this one stopped. Down, busy or refusing credentials: the rest stays pending. A score whose
 * trace MLflow does not have yet stays pending until it does; what MLflow refuses as it is stays
 * on disk as refused, with the answer.
 */
export async function deliverEvaluations(store: EvaluationStore, target: EvaluationTarget): Promise<EvaluationDelivery> {
  const runs: DeliveredSuiteRun[] = [];
  let serverDown: string | undefined;
  for (const record of store.pendingSuiteRuns(target.destination)) {
    if (serverDown || !store.claimSuiteRun(record.id, Date.now() + CLAIM_MS)) {
      runs.push({ id: record.id, runId: record.runId, state: 'pending', problem: serverDown ?? CLAIMED_ELSEWHERE, notes: [] });
      continue;
    }
    const delivered = await deliverSuiteRun(store, target, record);
    if (delivered.state === 'pending') serverDown = delivered.problem;
    runs.push(delivered);
  }
  const runIdOf = new Map(runs.map((run) => [run.id, run.runId]));
  const scores = { delivered: 0, pending: 0, refused: 0 };
  const problems = new Set<string>();
  for (const score of store.pendingScores(target.destination)) {
    if (serverDown || !store.claimScore(score.id, Date.now() + CLAIM_MS)) {
      scores.pending++;
      problems.add(serverDown ?? CLAIMED_ELSEWHERE);
      continue;
    }
    const runId = score.suiteRun ? (runIdOf.get(score.suiteRun) ?? store.suiteRun(score.suiteRun)?.runId) : undefined;
    try {
      const logged = await logFeedback(
        target.http,
        score.traceId,
        {
          name: score.name,
          value: score.value,
          source: score.source,
          rationale: score.rationale,
          metadata: { 'otel-mlflow.passed': String(score.passed), ...(runId && { [SOURCE_RUN_METADATA]: runId }) },
        },
        new Date(score.createdAt),
      );
      store.settleScore(score.id, { state: 'delivered', destination: target.destination, assessmentId: logged.assessmentId });
      scores.delivered++;
    } catch (error) {
      const missingTrace = error instanceof MlflowApiError && error.status === 404 && error.errorCode === 'RESOURCE_DOES_NOT_EXIST';
      const state: EvaluationState = isPassing(error) || missingTrace ? 'pending' : 'refused';
      const answer = missingTrace ? `its trace ${score.traceId} is not in MLflow yet` : message(error);
      store.settleScore(score.id, { state, destination: target.destination, lastAnswer: answer });
      scores[state === 'pending' ? 'pending' : 'refused']++;
      problems.add(answer);
      if (isPassing(error)) serverDown = answer;
    }
  }
  return { runs, scores, scoreProblems: [...problems] };
}

async function deliverSuiteRun(store: EvaluationStore, target: EvaluationTarget, record: SuiteRunRecord): Promise<DeliveredSuiteRun> {
  const { http, destination } = target;
  const notes: string[] = [];
  let runId = record.runId;
  let artifactUri: string | undefined;
  const done = new Set<SuiteRunStep>(record.doneSteps);
  const step = async (name: SuiteRunStep, work: () => Promise<void>) => {
    if (done.has(name)) return;
    await work();
    done.add(name);
    store.recordStep(record.id, name, destination, runId ?? undefined);
  };
  try {
    await step('create', async () => {
      if (runId) return;
      const run = await createRun(http, { experimentId: target.experimentId, name: record.name, startTime: record.startedAt, tags: record.tags });
      runId = run.runId;
      artifactUri = run.artifactUri;
    });
    const id = runId!;
    // Linking is idempotent, and a run made after its traces (MLflow was down) has no other link.
    await step('link', () => linkTracesToRun(http, id, record.traceIds));
    await step('log', () => logRunData(http, id, { params: record.params, metrics: record.metrics, tags: record.tags, timestamp: record.endedAt }));
    await step('artifact', async () => {
      artifactUri ??= (await getRun(http, id))?.artifactUri;
      try {
        await uploadRunArtifact(http, artifactUri, RESULTS_ARTIFACT, record.results, 'application/x-ndjson');
      } catch (error) {
        if (error instanceof MlflowApiError || error instanceof UnreachableError) throw error;
        // An artifact root this tool cannot write (Databricks, s3://): the run goes on without the file.
        notes.push(`${RESULTS_ARTIFACT} not uploaded: ${message(error)}`);
      }
    });
    if (record.ownRun) await step('end', () => endRun(http, id, record.endStatus, record.endedAt));
    store.settleSuiteRun(record.id, 'delivered');
    return { id: record.id, runId: id, state: 'delivered', notes };
  } catch (error) {
    const state: EvaluationState = isPassing(error) ? 'pending' : 'refused';
    const problem = message(error);
    store.settleSuiteRun(record.id, state, problem);
    return { id: record.id, runId, state, problem, notes };
  }
}
