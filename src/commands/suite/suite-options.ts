import { ENDPOINTS, parseServerUrl } from '../../agent/client/endpoints.ts';
import {
  LLM_FLAGS,
  RUN_FLAG,
  choice,
  configFlag,
  parsed,
  text,
  toggle,
  type OptionTable,
  type OptionValues,
} from '../../cli/option-table.ts';
import { wholeNumberIn } from '../../cli/parse-whole-number.ts';
import { parseBaselineRef, parseTolerance } from './eval/compare-flags.ts';
import { passRate } from './parse-pass-rate.ts';

const MAX_CONCURRENCY = 32;
const MAX_REPEAT = 100;

export const SUITE_OPTIONS = {
  ...LLM_FLAGS,
  ...RUN_FLAG,
  url: parsed('<url>', 'the running server to use', parseServerUrl, 'http://127.0.0.1:8000'),
  spawn: toggle('start an in-process server for the run instead'),
  file: text('<file>', 'your own questions: JSON, YAML, or one question per line'),
  endpoint: choice('<endpoint>', 'which endpoint answers', ENDPOINTS, 'chat'),
  concurrency: parsed('<n>', 'questions in flight at once', wholeNumberIn(1, MAX_CONCURRENCY), '2'),
  repeat: parsed('<n>', 'run the suite this many times', wholeNumberIn(1, MAX_REPEAT), '1'),
  session: text('<id>', 'group the run as one MLflow session'),
  output: text('<file>', 'write one NDJSON line per question as it finishes'),
  verify: toggle('read every trace back from MLflow and report any that did not land'),
  judge: toggle('an LLM judges correctness and groundedness too (needs a real LLM provider)'),
  minPassRate: parsed('<rate>', 'share of questions that must pass for exit 0: 0..1 or N%', passRate, '1'),
  authToken: configFlag('authToken', 'bearer token of the server; `-` reads it from stdin (or OTEL_MLFLOW_AUTH_TOKEN)'),
  compare: parsed(
    '<run>',
    "compare with an MLflow run: its id, or 'previous' (the last finished suite run); exit 11 on a regression",
    parseBaselineRef,
  ),
  // Parsed whether or not it is used: a typo must not pass unnoticed until the day --compare is added.
  tolerance: parsed(
    '<spec>',
    'how much worse --compare allows: score=<drop 0-1>,latency=<p95 rise %> (default: score=0,latency=20%)',
    parseTolerance,
  ),
} satisfies OptionTable;

export type SuiteOptions = OptionValues<typeof SUITE_OPTIONS>;
