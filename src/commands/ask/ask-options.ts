import { ENDPOINTS, parseServerUrl } from '../../agent/client/endpoints.ts';
import { LLM_FLAGS, RUN_FLAG, choice, parsed, type OptionTable, type OptionValues } from '../../cli/option-table.ts';

export const ASK_OPTIONS = {
  ...LLM_FLAGS,
  ...RUN_FLAG,
  endpoint: choice('<endpoint>', 'which agent path answers', ENDPOINTS, 'chat'),
  url: parsed('<url>', 'send the question to a running `otel-mlflow serve` instead', parseServerUrl),
} satisfies OptionTable;

export type AskOptions = OptionValues<typeof ASK_OPTIONS>;
