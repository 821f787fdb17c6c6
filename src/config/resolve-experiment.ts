import type { ConfigProblem } from '../errors.ts';
import { describeSource } from './mask.ts';
import { envVarsFor, CONFIG_OPTIONS, type ConfigPurpose } from './options.ts';
import type { Resolution } from './resolve-options.ts';
import { sourced, type DestinationKind } from './resolve-destination.ts';
import type { ExperimentRef, Source } from './types.ts';

/** The environment and .env are one layer here, as they are once python-dotenv has loaded the file. */
const RANK: Record<Source['kind'], number> = { flag: 0, env: 1, dotenv: 1, file: 2, databrickscfg: 3, derived: 4, default: 5 };

/**
 * An id beats a name from the same layer: --experiment-id, --experiment, MLFLOW_EXPERIMENT_ID, the
 * purpose's name variable, MLFLOW_EXPERIMENT_NAME, the config file, the default name.
 */
export function resolveExperiment(
  id: Resolution<string> | undefined,
  name: Resolution<string>,
  kind: DestinationKind,
  purpose: ConfigPurpose,
): { experiment: ExperimentRef; problems: ConfigProblem[] } {
  if (id && RANK[id.source.kind] <= RANK[name.source.kind]) return { experiment: { kind: 'id', id: sourced(id) }, problems: [] };
  const experiment: ExperimentRef = { kind: 'name', name: sourced(name) };
  // A Unity Catalog table takes traces without an experiment, so only experiment-stored traces care.
  if (kind !== 'databricks' || name.value.startsWith('/')) return { experiment, problems: [] };
  const [purposeVariable] = envVarsFor(CONFIG_OPTIONS.experimentName, purpose);
  const problem: ConfigProblem =
    name.source.kind === 'default'
      ? {
          message:
            `no experiment is set, and on Databricks an experiment is a workspace path: set ${purposeVariable?.name} ` +
            `or MLFLOW_EXPERIMENT_NAME (or pass --experiment) to /Users/<you>/${name.value}`,
        }
      : {
          message: `experiment name '${name.value}' is not a workspace path; on Databricks use /Users/<you>/${name.value}`,
          source: describeSource(name.source),
        };
  return { experiment, problems: [problem] };
}
