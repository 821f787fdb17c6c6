import { ExitCode, ExpectedError } from '../../errors.ts';

/** A share of questions: a fraction from 0 to 1 (`0.9`) or a percentage (`90%`). */
export function passRate(value: unknown, flag: string): number {
  const text = String(value).trim();
  const percent = text.endsWith('%');
  const number = percent ? Number(text.slice(0, -1)) : Number(text);
  const rate = percent ? number / 100 : number;
  if (text === '' || text === '%' || !Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw new ExpectedError(`${flag} must be a fraction from 0 to 1 or a percentage (got '${String(value)}')`, {
      exitCode: ExitCode.usage,
      hint: `e.g. ${flag} 0.9 or ${flag} 90%: the run exits 0 when at least that share of questions passes`,
    });
  }
  return rate;
}
