import type { ResolvedConfig } from '../config/types.ts';
import { deliverEvaluations, type EvaluationDelivery } from '../eval/deliver-evaluations.ts';
import { evaluationDestinationKey, runUrl } from '../eval/suite-mlflow-run.ts';
import { EvaluationStore } from '../pipeline/store/evaluation-store.ts';
import type { PushTarget } from './push-traces.ts';

/** Suite runs and scores a push carries: those kept local-only, and those waiting for this destination. */
export function countPendingEvaluations(storeDir: string, config: ResolvedConfig): { runs: number; scores: number } {
  const key = evaluationDestinationKey(config);
  if (!key) return { runs: 0, scores: 0 };
  const store = EvaluationStore.open(storeDir);
  try {
    return { runs: store.pendingSuiteRuns(key).length, scores: store.pendingScores(key).length };
  } finally {
    store.close();
  }
}

export interface PushedEvaluations extends EvaluationDelivery {
  /** The page of each suite run now in MLflow. */
  runUrls: Record<string, string>;
}

/**
 * After the traces: the suite runs (created, linked to their traces, logged, ended) and the scores as
 * assessments on their traces, by the same path `suite` takes.
 */
export async function pushEvaluations(target: PushTarget, storeDir: string): Promise<PushedEvaluations> {
  const store = EvaluationStore.open(storeDir);
  try {
    const experimentId = target.ensured.experiment.experimentId;
    const delivery = await deliverEvaluations(store, { http: target.http, destination: evaluationDestinationKey(target.config)!, experimentId });
    const runUrls: Record<string, string> = {};
    for (const run of delivery.runs) {
      const url = run.runId && runUrl(target.config, experimentId, run.runId);
      if (url && run.runId) runUrls[run.runId] = url;
    }
    return { ...delivery, runUrls };
  } finally {
    store.close();
  }
}
