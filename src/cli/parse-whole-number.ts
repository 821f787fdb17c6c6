import { ExitCode, ExpectedError } from '../errors.ts';

/** A numeric flag, checked against its range with a message that names the flag. */
export function wholeNumber(value: unknown, flag: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ExpectedError(`${flag} must be a whole number from ${min} to ${max} (got '${String(value)}')`, {
      exitCode: ExitCode.usage,
    });
  }
  return n;
}
