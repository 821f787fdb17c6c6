import type { CommandContext } from '../../cli/context.ts';
import { writeJson, writeLine } from '../../cli/output.ts';
import { formatLocalTime } from '../../cli/trace-format.ts';
import { ExitCode } from '../../errors.ts';
import { openConfiguredStore } from '../../pipeline/store/configured-store.ts';
import { plural } from '../../util/plural.ts';
import type { TracesPruneOptions } from './traces-options.ts';

export async function run(ctx: CommandContext, options: TracesPruneOptions): Promise<number> {
  const { olderThan: cutoff, undelivered, dryRun } = options;
  const { store } = await openConfiguredStore({ cwd: ctx.cwd, env: ctx.env, homeDir: ctx.homeDir, flags: ctx.flags });
  let result: ReturnType<typeof store.writes.prune>;
  try {
    result = store.writes.prune(cutoff, { undelivered, dryRun });
  } finally {
    store.close();
  }
  const { deleted, keptUndelivered } = result;
  if (ctx.globals.json) {
    writeJson(ctx.stdout, { deleted, dryRun, keptUndelivered, olderThan: cutoff.toISOString(), store: store.dir });
    return ExitCode.ok;
  }
  const what = undelivered ? 'trace' : 'delivered trace';
  const verb = dryRun ? 'Would delete' : 'Deleted';
  writeLine(ctx.stdout, `${verb} ${plural(deleted, what)} that started before ${formatLocalTime(cutoff.toISOString())} from ${store.dir}.`);
  if (keptUndelivered > 0) {
    writeLine(
      ctx.stdout,
      `Kept ${plural(keptUndelivered, 'older trace')} never delivered (local-only, pending or refused): \`otel-mlflow traces push\` sends them; --undelivered deletes them too.`,
    );
  }
  return ExitCode.ok;
}
