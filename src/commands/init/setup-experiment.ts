import { fail, ok, type Parsed } from '../../config/parse-values.ts';
import { ensureExperiment, type EnsuredExperiment } from '../../mlflow/ensure-experiment.ts';
import type { Experiment } from '../../mlflow/experiments.ts';
import type { TrackingCheck } from './check-destination.ts';
import { DEFAULT_EXPERIMENT } from './init-answers.ts';
import { ANSWERED, ask, parsedAnswer, untilAccepted, type InitSession } from './init-session.ts';
import type { Prompter } from './prompter.ts';

const NEW_EXPERIMENT = '\0new';

/**
 * The experiment traces go to: an existing one picked from the list, or a name typed and created.
 * A name given by flag is only created with --create-experiment or the person's yes.
 */
export async function setupExperiment(
  session: InitSession,
  tracking: TrackingCheck,
  options: { databricks: boolean; name: string | undefined; createExperiment: boolean },
): Promise<EnsuredExperiment> {
  let name = options.name;
  let chosenNew = false;
  return untilAccepted(session, async (previous) => {
    if (previous || name === undefined)
      ({ name, chosenNew } = await askExperiment(ask(session), tracking.experiments, options.databricks, name));
    const chosen = experimentName(options.databricks).value(name);
    const prompter = session.prompter;
    const consent =
      chosenNew ||
      options.createExperiment ||
      (prompter ? (question: string) => prompter.confirm({ message: question, default: true }) : false);
    const ensured = await ensureExperiment(
      tracking.http,
      { kind: 'name', name: { value: chosen, source: ANSWERED } },
      {
        createMissing: consent,
        restoreDeleted: consent,
        experimentHint: 'pass --experiment with the name of an existing one',
        consentFlag: '--create-experiment',
      },
    );
    const verb = { found: 'Using experiment', created: 'Created experiment', restored: 'Restored experiment' }[ensured.action];
    session.progress.passed(`${verb} '${chosen}' (id ${ensured.experiment.experimentId})`);
    return ensured;
  });
}

async function askExperiment(
  prompter: Prompter,
  listed: Experiment[],
  databricks: boolean,
  last: string | undefined,
): Promise<{ name: string; chosenNew: boolean }> {
  if (listed.length > 0) {
    const choice = await prompter.select({
      message: 'Which experiment should the traces go to?',
      choices: [
        { value: NEW_EXPERIMENT, name: 'Create a new experiment' },
        ...listed.map((e) => ({ value: e.name, name: e.name, description: `experiment id ${e.experimentId}` })),
      ],
      default: last !== undefined && listed.some((e) => e.name === last) ? last : NEW_EXPERIMENT,
    });
    if (choice !== NEW_EXPERIMENT) return { name: choice, chosenNew: false };
  }
  const name = await prompter.input({
    message: 'Name of the new experiment',
    default: last ?? suggestedName(listed, databricks),
    validate: experimentName(databricks).validate,
  });
  return { name, chosenNew: true };
}

/** On Databricks, next to the person's own experiments when the list shows where those are. */
function suggestedName(listed: Experiment[], databricks: boolean): string {
  if (!databricks) return DEFAULT_EXPERIMENT.mlflow;
  const home = listed.map((e) => /^(\/Users\/[^/]+)\//.exec(e.name)?.[1]).find((dir) => dir !== undefined);
  return home ? `${home}/otel-mlflow` : DEFAULT_EXPERIMENT.databricks;
}

/** Names are free on a self-hosted server; on Databricks they are workspace paths. */
function experimentName(databricks: boolean) {
  return parsedAnswer(
    (name): Parsed<string> =>
      name === ''
        ? fail('is empty')
        : databricks && !name.startsWith('/')
          ? fail(`'${name}' is not a workspace path: on Databricks a name looks like /Users/<you>/otel-mlflow or /Shared/otel-mlflow`)
          : ok(name),
    'the experiment name',
  );
}

/**
 * The experiment of a destination kept untested: nothing to list or check, so the name is taken as
 * given (or asked, with the default), and created by the first command that sends traces.
 */
export async function untestedExperimentName(
  session: InitSession,
  options: { databricks: boolean; name: string | undefined },
): Promise<string> {
  const parse = experimentName(options.databricks);
  if (options.name !== undefined) return parse.value(options.name);
  const fallback = options.databricks ? DEFAULT_EXPERIMENT.databricks : DEFAULT_EXPERIMENT.mlflow;
  return parse.value(
    await ask(session).input({
      message: 'Experiment name (created when the first traces arrive)',
      default: fallback,
      validate: parse.validate,
    }),
  );
}
