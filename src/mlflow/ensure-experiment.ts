import { describeSource } from '../config/mask.ts';
import type { ExperimentRef } from '../config/types.ts';
import { ExitCode, ExpectedError } from '../errors.ts';
import { MlflowApiError } from './errors.ts';
import { createExperiment, getExperiment, getExperimentByName, restoreExperiment, type Experiment } from './experiments.ts';
import type { MlflowHttp } from './http.ts';

/** Yes, no, or ask the person at the terminal. */
type Consent = boolean | ((question: string) => Promise<boolean>);

export interface EnsureExperimentOptions {
  createMissing: Consent;
  restoreDeleted: Consent;
  /** What was already looked up, to save a round trip. */
  found?: Experiment | undefined;
  /** How to say "choose another experiment" for the command at hand. */
  experimentHint: string;
  /** The command's flag that gives consent to create or restore (`--create-experiment`); hints name it only where there is one. */
  consentFlag?: string;
}

export interface EnsuredExperiment {
  experiment: Experiment;
  action: 'found' | 'created' | 'restored';
  /** e.g. `'otel-mlflow'` or `id 12`, with where the setting came from. */
  label: string;
}

/**
 * The experiment a command logs to, created when missing (as `mlflow.set_experiment` does) or
 * restored when deleted, where allowed. Failures say what to do next.
 */
export async function ensureExperiment(http: MlflowHttp, ref: ExperimentRef, options: EnsureExperimentOptions): Promise<EnsuredExperiment> {
  const label = ref.kind === 'id' ? `id ${ref.id.value}` : `'${ref.name.value}'`;
  const from = describeSource(ref.kind === 'id' ? ref.id.source : ref.name.source);
  const found =
    'found' in options
      ? options.found
      : ref.kind === 'id'
        ? await getExperiment(http, ref.id.value)
        : await getExperimentByName(http, ref.name.value);

  if (found?.lifecycleStage === 'deleted') {
    if (!(await consent(options.restoreDeleted, `Experiment ${label} is deleted. Restore it?`))) {
      throw new ExpectedError(`experiment ${label} (id ${found.experimentId}, from ${from}) is deleted`, {
        exitCode: ExitCode.experiment,
        hint: `restore it (\`mlflow experiments restore --experiment-id ${found.experimentId}\`${options.consentFlag ? `, or rerun with ${options.consentFlag}` : ''}), or ${options.experimentHint}`,
      });
    }
    await restoreExperiment(http, found.experimentId);
    return { experiment: { ...found, lifecycleStage: 'active' }, action: 'restored', label };
  }
  if (found) return { experiment: found, action: 'found', label: `${label} (from ${from})` };
  if (ref.kind === 'id') {
    throw new ExpectedError(`experiment id ${ref.id.value} (from ${from}) does not exist`, {
      exitCode: ExitCode.experiment,
      hint: `check MLFLOW_EXPERIMENT_ID, or ${options.experimentHint}`,
    });
  }
  if (!(await consent(options.createMissing, `Experiment ${label} does not exist. Create it?`))) {
    throw new ExpectedError(`experiment ${label} (from ${from}) does not exist`, {
      exitCode: ExitCode.experiment,
      hint: options.consentFlag ? `rerun with ${options.consentFlag} to create it, or ${options.experimentHint}` : options.experimentHint,
    });
  }
  let id: string;
  try {
    id = await createExperiment(http, ref.name.value);
  } catch (error) {
    // Another process (a second serve, the relay, a push) created it since it was looked up: use it.
    const meanwhile =
      error instanceof MlflowApiError && error.errorCode === 'RESOURCE_ALREADY_EXISTS'
        ? await getExperimentByName(http, ref.name.value)
        : undefined;
    if (meanwhile?.lifecycleStage === 'active') return { experiment: meanwhile, action: 'found', label: `${label} (from ${from})` };
    throw error;
  }
  return { experiment: { experimentId: id, name: ref.name.value, lifecycleStage: 'active' }, action: 'created', label };
}

async function consent(value: Consent, question: string): Promise<boolean> {
  return typeof value === 'function' ? value(question) : value;
}
