import { getExperiment, getExperimentByName, type Experiment } from '../../../mlflow/experiments.ts';
import type { Check } from './check.ts';
import { isExperimentWhere, type ConfigFound } from './config.ts';
import { skippedWithoutExperiment } from './skipped.ts';

/** The configured experiment as the lookup that proved the credentials found it; absent when there is none yet. */
export interface CredentialsFound {
  existingExperiment?: Experiment;
}

export const credentialsCheck: Check<ConfigFound, CredentialsFound> = {
  id: 'credentials',
  title: 'Credentials',
  async run({ config, where }) {
    if (!isExperimentWhere(where)) return skippedWithoutExperiment(where);
    // Any authenticated answer proves the credentials; the experiment lookup is needed next anyway.
    const ref = config.experiment;
    const existingExperiment =
      ref.kind === 'id' ? await getExperiment(where.http, ref.id.value) : await getExperimentByName(where.http, ref.name.value);
    return {
      status: 'ok',
      detail: config.auth.kind === 'none' ? 'the server asks for none' : `${where.auth.describe()}: accepted`,
      ...(existingExperiment && { adds: { existingExperiment } }),
    };
  },
};
