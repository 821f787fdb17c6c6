import { readFileSync } from 'node:fs';

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** Nearest-rank quantile: a value that was measured, not interpolated. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** One line of the printed table: what was measured, the absolute figures, the ratio, and the target. */
export interface Row {
  name: string;
  raw: string;
  ratio?: number;
  target?: string;
  met?: boolean;
}

export function formatTable(rows: readonly Row[]): string {
  const nameWidth = Math.max(...rows.map((row) => row.name.length));
  const rawWidth = Math.max(...rows.map((row) => row.raw.length));
  return rows
    .map((row) => {
      const ratio = row.ratio === undefined ? '' : `ratio ${row.ratio.toFixed(2)}`;
      const target = row.target === undefined ? '' : `target ${row.target}${row.met === undefined ? '' : row.met ? ' ✓' : ' ✗'}`;
      return `${row.name.padEnd(nameWidth)}  ${row.raw.padEnd(rawWidth)}  ${ratio.padEnd(11)} ${target}`.trimEnd();
    })
    .join('\n');
}

export function mb(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(0)} MB`;
}

/** Kilobytes as /proc/<pid>/status reports them (VmRSS, VmHWM), in bytes; undefined once the process is gone. */
export function procStatusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system, all threads) a process has used so far, in ms; undefined once it is gone. */
export function procCpuMs(pid: number): number | undefined {
  try {
    // Fields after the command name, which may itself hold spaces: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** USER_HZ, which Linux fixes at 100 for /proc on every architecture it runs on. */
const CLOCK_TICKS_PER_SECOND = 100;
