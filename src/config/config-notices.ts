import { describeSource } from './mask.ts';
import type { OptionKey } from './options.ts';
import type { ResolvedOptions } from './resolve-options.ts';
import type { Destination, ResolvedConfig } from './types.ts';

/** The values the old Python demo's README puts in its example .env, which people copy before filling in. */
const PLACEHOLDERS: Partial<Record<OptionKey, (value: string) => boolean>> = {
  trackingUri: (value) => value.includes('//your-workspace.'),
  databricksHost: (value) => value.includes('//your-workspace.'),
  databricksToken: (value) => value === 'dapi1234567890abcdef',
  openaiApiKey: (value) => value === 'sk-proj-...',
  experimentName: (value) => value.includes('/your.email@'),
};

/** Things a valid configuration says that its author most likely did not mean. */
export function noticesFor(destination: Destination, values: ResolvedOptions, serving: ResolvedConfig['llm']['databricks']): string[] {
  const notices: string[] = [];
  for (const [key, isPlaceholder] of Object.entries(PLACEHOLDERS) as [OptionKey, (value: string) => boolean][]) {
    const resolution = values[key];
    if (resolution && typeof resolution.value === 'string' && isPlaceholder(resolution.value)) {
      // Secrets are never quoted, placeholders included: the message names where the value is instead.
      notices.push(`${describeSource(resolution.source)} is the example .env's placeholder, not a real value: replace it with your own`);
    }
  }
  if (serving && 'problems' in serving) notices.push(...serving.problems.map((p) => `the LLM cannot answer: ${p.message}`));
  const host = values.databricksHost;
  if (destination.kind === 'local' && host && !serving) {
    notices.push(
      `DATABRICKS_HOST (from ${describeSource(host.source)}) is set but MLFLOW_TRACKING_URI is not, so traces stay in the local store; ` +
        'set MLFLOW_TRACKING_URI=databricks to send them to that workspace',
    );
  }
  const tracking = values.trackingUri;
  if (destination.kind === 'collector' && tracking) {
    // As with MLflow's own SDK; a shell that exports the endpoint for other programs makes this easy to miss.
    notices.push(
      `${describeSource(destination.endpoint.source)} names an OpenTelemetry collector, so traces go there and not to the MLflow ` +
        `of ${describeSource(tracking.source)}; pass --tracking-uri ${tracking.value} to send them to MLflow instead`,
    );
  }
  return notices;
}
