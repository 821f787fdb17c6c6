import { RUN_FLAG, parsed, toggle, type OptionTable, type OptionValues } from '../../cli/option-table.ts';
import { wholeNumberIn } from '../../cli/parse-whole-number.ts';

const MAX_TEST_TRACES = 50;
const MAX_TIMEOUT_SECONDS = 600;

export const DOCTOR_OPTIONS = {
  ...RUN_FLAG,
  traces: parsed('<n>', 'how many test traces to send', wholeNumberIn(1, MAX_TEST_TRACES), '3'),
  createExperiment: toggle('create the experiment when it does not exist'),
  timeout: parsed('<seconds>', 'how long to wait for traces to appear in MLflow', wholeNumberIn(1, MAX_TIMEOUT_SECONDS), '30'),
} satisfies OptionTable;

export type DoctorOptions = OptionValues<typeof DOCTOR_OPTIONS>;
