import { checkTargetRun, ensureTargetExperiment } from '../../../destination/resolve.ts';
import { refuseRunWithoutExperiment } from '../../../mlflow/check-run.ts';
import type { EnsuredExperiment } from '../../../mlflow/ensure-experiment.ts';
import type { MlflowRun } from '../../../mlflow/runs.ts';
import type { Asked, Check } from './check.ts';
import { isExperimentWhere, type ConfigFound, type ExperimentWhere, type Where } from './config.ts';
import type { CredentialsFound } from './credentials.ts';
import { skippedWithoutExperiment } from './skipped.ts';

/** An experiment the test traces go to, found, created or restored, and the run they link to. */
interface ExperimentSendTo extends ExperimentWhere {
  experiment: EnsuredExperiment;
  run?: MlflowRun;
}

/** Where the test traces go: where the configuration sends them, with the experiment when it is one. */
export type SendTo = Exclude<Where, ExperimentWhere> | ExperimentSendTo;

export interface ExperimentFound {
  sendTo: SendTo;
}

/** The resolver's first two steps, the run then the experiment, as doctor reports them. */
export const experimentCheck: Check<Asked & ConfigFound & CredentialsFound, ExperimentFound> = {
  id: 'experiment',
  title: 'Experiment',
  async run({ input, config, where, existingExperiment }) {
    // Checked first: a run that cannot take the test traces must not leave a new experiment behind.
    refuseRunWithoutExperiment(config);
    if (!isExperimentWhere(where)) return { ...skippedWithoutExperiment(where), adds: { sendTo: where } };
    const run = await checkTargetRun(where.http, where.target);
    const consent = input.createExperiment || (input.confirm ?? false);
    const ensured = await ensureTargetExperiment(
      where.http,
      where.target,
      {
        createMissing: consent,
        restoreDeleted: consent,
        experimentHint: 'set MLFLOW_EXPERIMENT_NAME_BASIC / --experiment to an existing one',
        consentFlag: '--create-experiment',
      },
      existingExperiment,
    );
    const verb = { found: '', created: 'created ', restored: 'restored deleted experiment ' }[ensured.action];
    const linked = run ? `; test traces linked to run ${run.name ? `'${run.name}' ` : ''}(${run.runId})` : '';
    return {
      status: 'ok',
      detail: `${verb}${ensured.label} (id ${ensured.experiment.experimentId})${linked}`,
      adds: { sendTo: { ...where, experiment: ensured, ...(run && { run }) } },
    };
  },
};
