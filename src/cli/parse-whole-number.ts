import { ExitCode, ExpectedError } from '../errors.ts';

/**
 * The number the text spells in decimal digits, else NaN: `Number()` alone takes an empty value for
 * 0 (`--port ''` from an unset variable would listen anywhere) and `0x10` or `1e3` for numbers.
 */
function digits(text: string): number {
  return /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
}

/** A numeric flag, checked against its range with a message that names the flag. */
function wholeNumber(value: string, flag: string, min: number, max: number): number {
  const n = digits(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ExpectedError(`${flag} must be a whole number from ${min} to ${max} (got '${value}')`, {
      exitCode: ExitCode.usage,
    });
  }
  return n;
}

/** The parser of a numeric option with this range, for an option table. */
export function wholeNumberIn(min: number, max: number): (text: string, flag: string) => number {
  return (text, flag) => wholeNumber(text, flag, min, max);
}

/** A port to listen on; 0 lets the system pick one. */
export const parsePort = wholeNumberIn(0, 65535);

/** A count with no upper bound worth a message. */
export function atLeastOne(text: string, flag: string): number {
  const n = digits(text);
  if (!Number.isInteger(n) || n < 1) {
    throw new ExpectedError(`${flag} must be a whole number of at least 1 (got '${text}')`, { exitCode: ExitCode.usage });
  }
  return n;
}
