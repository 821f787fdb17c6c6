import type { CommandContext } from './context.ts';

/** What people see of traces in a terminal: widths, durations, token counts, local times. */

const NOT_A_TERMINAL_WIDTH = 80;

/** The terminal's width; 80 when output goes to a file or a pipe. */
export function terminalWidth(ctx: Pick<CommandContext, 'stdout' | 'interactive'>): number {
  const columns = (ctx.stdout as { columns?: unknown }).columns;
  return ctx.interactive && typeof columns === 'number' && columns > 0 ? columns : NOT_A_TERMINAL_WIDTH;
}

/** One line of at most `width` characters, with an ellipsis where it was cut. */
export function cutToWidth(text: string, width: number): string {
  const line = text.replace(/\s*\n\s*/g, ' ');
  if (line.length <= width) return line;
  return width <= 1 ? '…'.slice(0, width) : `${line.slice(0, width - 1)}…`;
}

/** `label:` padded to `width`, and never run into the value after it, however long the label. */
export function formatLabel(label: string, width: number): string {
  return `${label}: `.padEnd(width);
}

export function formatDuration(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 100) return `${Number(ms.toFixed(1))} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(2))} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes}m ${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}

export function formatTokens(tokens: { input: number; output: number; total: number }): string {
  return `${tokens.total} tokens (${tokens.input} in, ${tokens.output} out)`;
}

/** `2025-01-31 12:34:56` in the local zone, or without the year (`01-31 12:34:56`) for narrow tables. */
export function formatLocalTime(iso: string, withYear = true): string {
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  const day = `${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  return `${withYear ? `${date.getFullYear()}-` : ''}${day} ${time}`;
}
