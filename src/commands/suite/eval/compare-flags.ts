// What --compare and --tolerance take, apart from comparing: suite's option table parses them, and --help loads it.
import { ExitCode, ExpectedError } from '../../../errors.ts';

/** A baseline to find: a run id, or `previous` (the latest finished suite run in the experiment). */
export type BaselineRef = { kind: 'run'; runId: string } | { kind: 'previous' };

export function parseBaselineRef(text: string): BaselineRef {
  const value = text.trim();
  if (value === 'previous') return { kind: 'previous' };
  if (/^[0-9a-f]{32}$/i.test(value) || /^[\w-]{8,64}$/.test(value)) return { kind: 'run', runId: value };
  throw new ExpectedError(`--compare: '${text}' is neither a run id nor 'previous'`, {
    exitCode: ExitCode.usage,
    hint: "pass the id of a run (its page in MLflow shows it), or 'previous' for the last finished suite run of the experiment",
  });
}

/** How much worse a metric may get before it counts as a regression. */
export interface Tolerance {
  /** Absolute drop of pass_rate and of each `<scorer>_mean` (0–1): 0 = any drop. */
  score: number;
  /** Relative rise of latency_p95_ms: 0.2 = 20 %. */
  latency: number;
}

export const DEFAULT_TOLERANCE: Tolerance = { score: 0, latency: 0.2 };

const TOLERANCE_HINT =
  'e.g. --tolerance score=0.05,latency=30% (score: the pass rate or a scorer mean may drop this much; latency: p95 may rise this much)';

/** `--tolerance score=0.05,latency=30%`; keys left out keep their default. */
export function parseTolerance(text: string): Tolerance {
  const tolerance = { ...DEFAULT_TOLERANCE };
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const match = /^(score|latency)\s*=\s*(\d+(?:\.\d+)?)(%?)$/.exec(part);
    if (!match) throw new ExpectedError(`--tolerance: '${part}' is not key=value`, { exitCode: ExitCode.usage, hint: TOLERANCE_HINT });
    const [, key, number, percent] = match;
    const value = Number(number) / (percent ? 100 : 1);
    if (key === 'score' && value > 1)
      throw new ExpectedError(`--tolerance: score=${number}${percent} is more than the whole range (0–1)`, {
        exitCode: ExitCode.usage,
        hint: TOLERANCE_HINT,
      });
    tolerance[key as keyof Tolerance] = value;
  }
  return tolerance;
}
