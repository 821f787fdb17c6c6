import { RUN_FLAG, choice, parsed, toggle, type OptionTable, type OptionValues } from '../../cli/option-table.ts';
import { atLeastOne } from '../../cli/parse-whole-number.ts';
import { DELIVERY_STATES, type LocalTraceStatus } from '../../pipeline/store/stored-trace.ts';
import { parseWhen } from './parse-when.ts';

export const TRACE_STATUSES = ['OK', 'ERROR', 'IN_PROGRESS'] as const satisfies readonly LocalTraceStatus[];

/** `--since 2h`: the point in time, and the words it was given in, for messages. */
const SINCE = parsed('<when>', 'only traces newer than this: a duration (30m, 2h, 7d) or a date', (given) => ({
  given,
  date: parseWhen(given),
}));

export const TRACES_LIST_OPTIONS = {
  since: SINCE,
  status: choice('<status>', 'only traces with this trace status or delivery state', [...TRACE_STATUSES, ...DELIVERY_STATES]),
  limit: parsed('<n>', 'at most this many, newest first', atLeastOne, '20'),
} satisfies OptionTable;

export const TRACES_SHOW_OPTIONS = {
  full: toggle('do not cut inputs and outputs to the terminal width'),
} satisfies OptionTable;

export const TRACES_PUSH_OPTIONS = {
  ...RUN_FLAG,
  since: SINCE,
  dead: toggle('also traces the destination refused before (after the cause is fixed)'),
  all: toggle('every stored trace this destination lacks, also those delivered elsewhere'),
  includeDoctor: toggle("also doctor's test traces"),
} satisfies OptionTable;

export const TRACES_PRUNE_OPTIONS = {
  olderThan: parsed('<when>', 'delete traces older than this: a duration (30m, 2h, 7d) or a date', (given) => parseWhen(given), '30d'),
  undelivered: toggle('also delete traces never delivered (local-only, pending, dead): they are lost'),
  dryRun: toggle('only say what would be deleted'),
} satisfies OptionTable;

export type TracesListOptions = OptionValues<typeof TRACES_LIST_OPTIONS>;
export type TracesShowOptions = OptionValues<typeof TRACES_SHOW_OPTIONS>;
export type TracesPushOptions = OptionValues<typeof TRACES_PUSH_OPTIONS>;
export type TracesPruneOptions = OptionValues<typeof TRACES_PRUNE_OPTIONS>;
