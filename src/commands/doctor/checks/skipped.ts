import type { Outcome } from './check.ts';
import type { ExperimentWhere, Where } from './config.ts';

/** For the checks that have nothing to ask where no MLflow is configured. */
export function skippedForLocalStore(): Outcome {
  return { status: 'skipped', detail: 'local store: no MLflow is configured' };
}

export function skippedForCollector(): Outcome {
  return { status: 'skipped', detail: 'an OTLP collector is configured; nothing to check on MLflow' };
}

/** The credentials and experiment checks where traces need no experiment. */
export function skippedWithoutExperiment(where: Exclude<Where, ExperimentWhere>): Outcome {
  switch (where.kind) {
    case 'local':
      return skippedForLocalStore();
    case 'collector':
      return skippedForCollector();
    case 'unity-catalog':
      return { status: 'skipped', detail: 'a Unity Catalog table needs no experiment; credentials are checked on export' };
  }
}
