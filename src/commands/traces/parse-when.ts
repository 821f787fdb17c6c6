import { ExitCode, ExpectedError } from '../../errors.ts';

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * A point in time for `--since` / `--older-than`: a duration ago (`30m`, `2h`, `7d`, `2w`) or an
 * ISO date (`2025-01-31`, `2025-01-31T12:00`). A date without a zone is local time, as people mean it.
 */
export function parseWhen(text: string, now: Date = new Date()): Date {
  const trimmed = text.trim();
  const duration = /^(\d+)\s*([smhdw])$/i.exec(trimmed);
  if (duration) return new Date(now.getTime() - Number(duration[1]) * UNIT_MS[duration[2]!.toLowerCase()]!);
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(trimmed)) {
    // Date.parse reads a bare date as UTC midnight; a bare date here is the local day.
    const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(trimmed) ? `${trimmed}T00:00` : trimmed.replace(' ', 'T'));
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new ExpectedError(`'${text}' is not a time: expected a duration ago (30m, 2h, 7d, 2w) or a date (2025-01-31, 2025-01-31T12:00)`, {
    exitCode: ExitCode.usage,
  });
}
