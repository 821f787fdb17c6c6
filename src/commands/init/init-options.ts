import { choice, text, toggle, type OptionTable, type OptionValues } from '../../cli/option-table.ts';
import { CONFIG_OPTIONS } from '../../config/options.ts';

export const DESTINATION_CHOICES = ['mlflow', 'databricks', 'collector', 'local'] as const;

export const INIT_OPTIONS = {
  yes: toggle('accept defaults and take every answer from flags (for scripts)'),
  destination: choice('<kind>', 'where traces go', DESTINATION_CHOICES),
  databricksHost: text('<url>', 'Databricks workspace URL'),
  databricksToken: text('<token>', 'Databricks personal access token, written to .env; `-` reads it from stdin'),
  otlpEndpoint: text('<url>', 'OTLP collector traces endpoint'),
  createExperiment: toggle('create the experiment when it does not exist'),
  llm: choice('<provider>', 'LLM provider', CONFIG_OPTIONS.llmProvider.parse.choices),
  llmModel: text('<model>', 'model or serving endpoint'),
  openaiApiKey: text('<key>', 'OpenAI API key, written to .env; `-` reads it from stdin'),
  openaiBaseUrl: text(
    '<url>',
    'base URL of the OpenAI API or of an OpenAI-compatible server (default: OPENAI_BASE_URL, else https://api.openai.com/v1)',
  ),
  anthropicApiKey: text('<key>', 'Anthropic API key, written to .env; `-` reads it from stdin'),
  anthropicBaseUrl: text(
    '<url>',
    'base URL of the Anthropic API or of a proxy in front of it, without /v1 (default: ANTHROPIC_BASE_URL, else https://api.anthropic.com)',
  ),
  configFile: text('<file>', 'config file to write', '.otel-mlflowrc.json'),
  // Not --env-file: Node reads that from anywhere on its command line and exits before we run.
  secretsFile: text('<file>', 'where secrets go (other commands read only .env)', '.env'),
  force: toggle('overwrite an existing config file'),
} satisfies OptionTable;

export type InitOptions = OptionValues<typeof INIT_OPTIONS>;
