import { RUN_FLAG, configFlag, parsed, type OptionTable, type OptionValues } from '../../cli/option-table.ts';
import { wholeNumberIn } from '../../cli/parse-whole-number.ts';

export const RUN_OPTIONS = {
  ...RUN_FLAG,
  captureContent: configFlag('captureContent', 'record no request or response bodies, prompts or answers in any span of the program'),
  deliverTimeout: parsed(
    '<seconds>',
    'after the program ends, how long its traces may take to reach the destination; the rest wait on disk',
    wholeNumberIn(0, 3600),
    '10',
  ),
} satisfies OptionTable;

export type RunOptions = OptionValues<typeof RUN_OPTIONS>;
