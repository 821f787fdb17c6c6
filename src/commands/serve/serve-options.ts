import { LLM_FLAGS, RUN_FLAG, configFlag, parsed, text, type OptionTable, type OptionValues } from '../../cli/option-table.ts';
import { parsePort } from '../../cli/parse-whole-number.ts';

export const SERVE_OPTIONS = {
  ...LLM_FLAGS,
  ...RUN_FLAG,
  // No default here: without --port, PORT is read (as the person set it) before 8000.
  port: parsed('<port>', 'port to listen on (default 8000, or PORT)', parsePort),
  host: text('<host>', 'address to listen on', '127.0.0.1'),
  authToken: configFlag('authToken'),
  corsOrigins: configFlag('corsOrigins'),
} satisfies OptionTable;

export type ServeOptions = OptionValues<typeof SERVE_OPTIONS>;
