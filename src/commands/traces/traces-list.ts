import type { CommandContext } from '../../cli/context.ts';
import { createPainter, writeJson, writeLine } from '../../cli/output.ts';
import { cutToWidth, formatDuration, formatLocalTime, terminalWidth } from '../../cli/trace-format.ts';
import type { ResolvedConfig } from '../../config/types.ts';
import { ExitCode } from '../../errors.ts';
import { plural } from '../../util/plural.ts';
import { deliveryJson } from '../../cli/delivery-state.ts';
import { leftInSpool } from '../../pipeline/spool/spool.ts';
import { TAKEN_IN_BY } from '../../cli/spool-lines.ts';
import { openConfiguredStore } from '../../pipeline/store/configured-store.ts';
import { DELIVERY_STATES, type DeliveryState, type LocalTraceStatus, type StoredTraceSummary } from '../../pipeline/store/stored-trace.ts';
import { summaryJson } from '../../pipeline/store/summarize-trace.ts';
import type { TraceStore } from '../../pipeline/store/trace-store.ts';
import { commandLine } from '../../invocation.ts';
import { TRACE_STATUSES, type TracesListOptions } from './traces-options.ts';

/** `tr-` and 12 hex digits: unique in any store a person keeps, and `traces show` takes a unique prefix. */
const SHORT_ID_LENGTH = 15;
const MIN_ROOT_WIDTH = 8;
const GAP = '  ';

export async function run(ctx: CommandContext, options: TracesListOptions): Promise<number> {
  const { since, limit } = options;
  // --status takes either: a trace's own status, or where its delivery stands.
  const status = TRACE_STATUSES.find((s) => s === options.status);
  const state = DELIVERY_STATES.find((s) => s === options.status);
  const { config, store } = await openConfiguredStore({ cwd: ctx.cwd, env: ctx.env, homeDir: ctx.homeDir, flags: ctx.flags });
  let code: number;
  try {
    code = list(
      ctx,
      options,
      { config, store },
      { ...(since && { since: since.date }), ...(status && { status }), ...(state && { state }), limit },
    );
  } finally {
    store.close();
  }
  if (!ctx.globals.json) await tellOfSpool(ctx, store.dir);
  return code;
}

/** Spans a stopped `run` left in the spool are in no list of the store's: said, with where they wait and what takes them in. */
async function tellOfSpool(ctx: CommandContext, storeDir: string): Promise<void> {
  const left = await leftInSpool(storeDir);
  if (left.files === 0) return;
  writeLine(
    ctx.stdout,
    createPainter(ctx).yellow(
      `${plural(left.files, 'batch', 'batches')} of spans left by runs that were stopped wait in ${left.in.join(' and ')}: the next ${TAKEN_IN_BY} with the same settings takes them in`,
    ),
  );
}

function list(
  ctx: CommandContext,
  options: TracesListOptions,
  { config, store }: { config: ResolvedConfig; store: TraceStore },
  filter: { since?: Date; status?: LocalTraceStatus; state?: DeliveryState; limit: number },
): number {
  const { limit } = filter;
  // One more than shown says whether there are more.
  const found = store.reads.list({ ...filter, limit: limit + 1 });
  const summaries = found.slice(0, limit);
  if (ctx.globals.json) {
    writeJson(
      ctx.stdout,
      summaries.map((summary) => ({ ...summaryJson(summary), delivery: deliveryJson(summary.delivery) })),
    );
    return ExitCode.ok;
  }

  const paint = createPainter(ctx);
  if (summaries.length === 0) {
    const filtered = filter.since !== undefined || filter.status !== undefined || filter.state !== undefined;
    if (filtered && store.reads.list({ limit: 1 }).length > 0) {
      writeLine(ctx.stdout, `No traces in ${store.dir} match ${describeFilter(options)}.`);
      return ExitCode.ok;
    }
    writeLine(ctx.stdout, `No traces in ${store.dir}.`);
    writeLine(ctx.stdout, 'Every trace is written here first, then delivered to the destination if one is configured, e.g. by:');
    for (const example of ['ask "What is MLflow tracing?"', 'suite --spawn', 'serve   (one trace per request)', 'doctor'].map(
      commandLine,
    )) {
      writeLine(ctx.stdout, `  ${example}`);
    }
    if (config.destination.kind === 'local') {
      writeLine(ctx.stdout, paint.dim('No destination is configured: they stay here until `otel-mlflow traces push`.'));
    }
    return ExitCode.ok;
  }

  for (const line of table(summaries, terminalWidth(ctx))) writeLine(ctx.stdout, line);
  if (found.length > limit) writeLine(ctx.stdout, paint.dim(`… more in ${store.dir}: raise --limit to see them`));
  writeLine(ctx.stdout, paint.dim(`See one: ${commandLine('traces show <id>')}   Send to MLflow: ${commandLine('traces push')}`));
  return ExitCode.ok;
}

type Column = 'time' | 'id' | 'root' | 'status' | 'state' | 'spans' | 'duration' | 'tokens';
const HEADER: Record<Column, string> = {
  time: 'TIME',
  id: 'TRACE ID',
  root: 'ROOT',
  status: 'STATUS',
  state: 'DELIVERY',
  spans: 'SPANS',
  duration: 'DURATION',
  tokens: 'TOKENS',
};
const RIGHT_ALIGNED: ReadonlySet<Column> = new Set(['spans', 'duration', 'tokens']);
/** Given up first when the terminal is narrow: the root name and the id matter more. */
const DROPPABLE: readonly Column[] = ['spans', 'duration'];

/**
 * Columns sized to their content; the root name takes what is left of the width. The delivery state
 * shows only when a trace has a destination (in local-only mode every row would say `local`).
 */
function table(summaries: StoredTraceSummary[], width: number): string[] {
  const rows = summaries.map(
    (s): Record<Column, string> => ({
      time: formatLocalTime(s.startTime, false),
      id: s.traceId,
      root: s.rootName,
      status: s.status,
      state: s.delivery.state,
      spans: String(s.spanCount),
      duration: formatDuration(s.durationMs),
      tokens: s.tokens ? String(s.tokens.total) : '-',
    }),
  );
  const widthOf = (key: Column) => Math.max(HEADER[key].length, ...rows.map((row) => row[key].length));
  let columns: Column[] = [
    'time',
    'id',
    'root',
    'status',
    ...(rows.some((row) => row.state !== 'local') ? (['state'] as const) : []),
    'spans',
    'duration',
    'tokens',
  ];
  const fixedWidth = () =>
    columns.filter((c) => c !== 'id' && c !== 'root').reduce((sum, c) => sum + widthOf(c), 0) + GAP.length * (columns.length - 1);
  for (const droppable of DROPPABLE) {
    if (width - fixedWidth() - SHORT_ID_LENGTH >= MIN_ROOT_WIDTH) break;
    columns = columns.filter((c) => c !== droppable);
  }
  const fixed = fixedWidth();
  const fullIdWidth = widthOf('id');
  // Full ids when they leave the root name room; otherwise a prefix `traces show` still takes.
  const idWidth = width - fixed - fullIdWidth >= MIN_ROOT_WIDTH * 2 ? fullIdWidth : SHORT_ID_LENGTH;
  const rootWidth = Math.max(MIN_ROOT_WIDTH, Math.min(widthOf('root'), width - fixed - idWidth));
  const cell = (row: Record<Column, string>, column: Column): string => {
    if (column === 'id') return row.id.slice(0, idWidth).padEnd(idWidth);
    if (column === 'root') return cutToWidth(row.root, rootWidth).padEnd(rootWidth);
    return RIGHT_ALIGNED.has(column) ? row[column].padStart(widthOf(column)) : row[column].padEnd(widthOf(column));
  };
  const line = (row: Record<Column, string>) =>
    columns
      .map((column) => cell(row, column))
      .join(GAP)
      .trimEnd();
  return [line(HEADER), ...rows.map(line)];
}

function describeFilter(options: TracesListOptions): string {
  return [options.since && `--since ${options.since.given}`, options.status && `--status ${options.status}`].filter(Boolean).join(' ');
}
