import type { CommandContext } from '../cli/context.ts';
import { createPainter, writeJson, writeLine } from '../cli/output.ts';
import { parseWhen } from '../cli/parse-when.ts';
import { cutToWidth, formatDuration, formatLocalTime, terminalWidth } from '../cli/trace-format.ts';
import { ExitCode, ExpectedError } from '../errors.ts';
import { openConfiguredStore } from '../local-store/configured-store.ts';
import { summaryJson, type LocalTraceStatus, type LocalTraceSummary } from '../local-store/local-trace-store.ts';
import { commandLine } from '../util/invocation.ts';

/** `tr-` and 12 hex digits: unique in any store a person keeps, and `traces show` takes a unique prefix. */
const SHORT_ID_LENGTH = 15;
const MIN_ROOT_WIDTH = 8;
const GAP = '  ';

export async function run(ctx: CommandContext, options: Record<string, unknown>): Promise<number> {
  const since = typeof options.since === 'string' ? parseWhen(options.since) : undefined;
  const status = options.status as LocalTraceStatus | undefined;
  const limit = positiveWhole(options.limit ?? '20', '--limit');
  const { config, store } = await openConfiguredStore({ cwd: ctx.cwd, env: ctx.env, homeDir: ctx.homeDir, flags: ctx.flags });

  // One more than shown says whether there are more.
  const found = await store.list({ ...(since && { since }), ...(status && { status }), limit: limit + 1 });
  const summaries = found.slice(0, limit);
  if (ctx.globals.json) {
    writeJson(ctx.stdout, summaries.map(summaryJson));
    return ExitCode.ok;
  }

  const paint = createPainter(ctx);
  if (summaries.length === 0) {
    const filtered = since !== undefined || status !== undefined;
    if (filtered && (await store.list({ limit: 1 })).length > 0) {
      writeLine(ctx.stdout, `No traces in ${store.dir} match ${describeFilter(options)}.`);
      return ExitCode.ok;
    }
    writeLine(ctx.stdout, `No traces in ${store.dir}.`);
    writeLine(ctx.stdout, 'Traces are kept here when no MLflow is configured, e.g. by:');
    for (const example of ['ask "What is MLflow tracing?"', 'suite --spawn', 'serve   (one trace per request)', 'doctor'].map(commandLine)) {
      writeLine(ctx.stdout, `  ${example}`);
    }
    if (config.destination.kind !== 'none') {
      writeLine(ctx.stdout, paint.dim(`A destination is configured (${config.destination.kind}): new traces go there, not here.`));
    }
    return ExitCode.ok;
  }

  for (const line of table(summaries, terminalWidth(ctx))) writeLine(ctx.stdout, line);
  if (found.length > limit) writeLine(ctx.stdout, paint.dim(`… more in ${store.dir}: raise --limit to see them`));
  writeLine(ctx.stdout, paint.dim(`See one: ${commandLine('traces show <id>')}   Send to MLflow: ${commandLine('traces push')}`));
  return ExitCode.ok;
}

/** Columns sized to their content; the root name takes what is left of the width. */
function table(summaries: LocalTraceSummary[], width: number): string[] {
  const rows = summaries.map((s) => ({
    time: formatLocalTime(s.startTime, false),
    id: s.traceId,
    root: s.rootName,
    status: s.status,
    spans: String(s.spanCount),
    duration: formatDuration(s.durationMs),
    tokens: s.tokens ? String(s.tokens.total) : '-',
  }));
  const header = { time: 'TIME', id: 'TRACE ID', root: 'ROOT', status: 'STATUS', spans: 'SPANS', duration: 'DURATION', tokens: 'TOKENS' };
  const widthOf = (key: keyof typeof header) => Math.max(header[key].length, ...rows.map((row) => row[key].length));
  const fixed = (['time', 'status', 'spans', 'duration', 'tokens'] as const).reduce((sum, key) => sum + widthOf(key), 0) + GAP.length * 6;
  const fullIdWidth = widthOf('id');
  // Full ids when they leave the root name room; otherwise a prefix `traces show` still takes.
  const idWidth = width - fixed - fullIdWidth >= MIN_ROOT_WIDTH * 2 ? fullIdWidth : SHORT_ID_LENGTH;
  const rootWidth = Math.max(MIN_ROOT_WIDTH, Math.min(widthOf('root'), width - fixed - idWidth));
  const line = (row: typeof header) =>
    [
      row.time.padEnd(widthOf('time')),
      row.id.slice(0, idWidth).padEnd(idWidth),
      cutToWidth(row.root, rootWidth).padEnd(rootWidth),
      row.status.padEnd(widthOf('status')),
      row.spans.padStart(widthOf('spans')),
      row.duration.padStart(widthOf('duration')),
      row.tokens.padStart(widthOf('tokens')),
    ].join(GAP);
  return [line(header).trimEnd(), ...rows.map((row) => line(row).trimEnd())];
}

function describeFilter(options: Record<string, unknown>): string {
  return [
    typeof options.since === 'string' && `--since ${options.since}`,
    typeof options.status === 'string' && `--status ${options.status}`,
  ]
    .filter(Boolean)
    .join(' ');
}

function positiveWhole(value: unknown, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new ExpectedError(`${flag} must be a whole number of at least 1 (got '${String(value)}')`, { exitCode: ExitCode.usage });
  }
  return n;
}
