import { classifyTrackingUri } from '../../config/tracking-uri.ts';
import type { LlmProviderName } from '../../config/types.ts';
import { ExitCode, ExpectedError } from '../../errors.ts';
import type { DESTINATION_CHOICES } from './init-options.ts';

export type DestinationChoice = (typeof DESTINATION_CHOICES)[number];

/** What the flags answer up front; every question left open is asked (or, in a script, is an error). */
export interface InitAnswers {
  destination?: DestinationChoice;
  trackingUri?: string;
  profile?: string;
  databricksHost?: string;
  databricksToken?: string;
  otlpEndpoint?: string;
  experiment?: string;
  /** Consent to create (or restore) the experiment without asking. */
  createExperiment: boolean;
  llm?: LlmProviderName;
  llmModel?: string;
  openaiApiKey?: string;
  openaiBaseUrl?: string;
  anthropicApiKey?: string;
  anthropicBaseUrl?: string;
}

export const DEFAULT_EXPERIMENT = { mlflow: 'otel-mlflow', databricks: '/Shared/otel-mlflow' } as const;

/** Flags that only make sense for one destination. */
const DESTINATION_FLAGS: Record<string, { flag: string; destination: DestinationChoice }> = {
  trackingUri: { flag: '--tracking-uri', destination: 'mlflow' },
  profile: { flag: '--profile', destination: 'databricks' },
  databricksHost: { flag: '--databricks-host', destination: 'databricks' },
  databricksToken: { flag: '--databricks-token', destination: 'databricks' },
  otlpEndpoint: { flag: '--otlp-endpoint', destination: 'collector' },
};

/**
 * The destination the flags name, or imply: `--tracking-uri databricks`, `databricks://<profile>` or
 * a workspace URL means Databricks. Flags of two destinations at once, or of another than
 * --destination, are a mistake.
 */
export function resolveDestinationFlags(answers: InitAnswers): InitAnswers {
  const resolved = { ...answers };
  const given: { flag: string; destination: DestinationChoice }[] = [];
  const uri = answers.trackingUri === undefined ? undefined : classifyTrackingUri(answers.trackingUri);
  if (uri?.ok && (uri.value.kind === 'databricks' || uri.value.workspace)) {
    delete resolved.trackingUri;
    if (uri.value.kind === 'http') resolved.databricksHost ??= uri.value.origin;
    else if (uri.value.profile !== undefined) resolved.profile ??= uri.value.profile;
    given.push({ flag: '--tracking-uri', destination: 'databricks' });
  }
  for (const [key, spec] of Object.entries(DESTINATION_FLAGS)) {
    if (resolved[key as keyof InitAnswers] !== undefined && answers[key as keyof InitAnswers] !== undefined) given.push(spec);
  }
  const implied = new Set(given.map((g) => g.destination));
  const chosen = answers.destination ?? (implied.size === 1 ? [...implied][0] : undefined);
  const strays = given.filter((g) => g.destination !== chosen);
  if (strays.length > 0) {
    const flags = strays.map((g) => g.flag).join(', ');
    throw new ExpectedError(
      chosen === undefined
        ? `${flags} belong to different destinations`
        : `${flags} ${strays.length === 1 ? 'does' : 'do'} not apply to --destination ${chosen}`,
      {
        exitCode: ExitCode.usage,
        hint: 'pick one destination with --destination mlflow|databricks|collector|local and give only its flags',
      },
    );
  }
  if (chosen !== undefined) resolved.destination = chosen;
  return resolved;
}

/** `--yes`: the defaults a person would most likely accept, where there is one. */
export function withDefaults(answers: InitAnswers): InitAnswers {
  const destination = answers.destination ?? 'local';
  const experiment =
    answers.experiment ?? (destination === 'mlflow' || destination === 'databricks' ? DEFAULT_EXPERIMENT[destination] : undefined);
  return { ...answers, destination, llm: answers.llm ?? 'offline', ...(experiment !== undefined && { experiment }) };
}

/**
 * The flags a script still has to pass, all at once. `existing` says which secrets the environment
 * or the env file already hold.
 */
export function missingFlags(answers: InitAnswers, existing: (name: string) => string | undefined): string[] {
  const missing: string[] = [];
  const { destination } = answers;
  if (destination === undefined) missing.push('--destination mlflow|databricks|collector|local');
  if (destination === 'mlflow' && answers.trackingUri === undefined) missing.push('--tracking-uri <url>');
  if (destination === 'databricks' && answers.profile === undefined) {
    if (answers.databricksHost === undefined) missing.push('--profile <name> (or --databricks-host <url> and --databricks-token <token>)');
    else if (answers.databricksToken === undefined && existing('DATABRICKS_TOKEN') === undefined)
      missing.push('--databricks-token <token>');
  }
  if (destination === 'collector' && answers.otlpEndpoint === undefined) missing.push('--otlp-endpoint <url>');
  if ((destination === 'mlflow' || destination === 'databricks') && answers.experiment === undefined) missing.push('--experiment <name>');
  if (answers.llm === undefined) missing.push('--llm openai|anthropic|databricks|offline');
  if (answers.llm === 'openai' && answers.openaiApiKey === undefined && existing('OPENAI_API_KEY') === undefined) {
    missing.push('--openai-api-key <key>');
  }
  if (answers.llm === 'anthropic' && answers.anthropicApiKey === undefined && existing('ANTHROPIC_API_KEY') === undefined) {
    missing.push('--anthropic-api-key <key>');
  }
  return missing;
}
