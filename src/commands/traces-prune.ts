import type { CommandContext } from '../cli/context.ts';
import { writeJson, writeLine } from '../cli/output.ts';
import { parseWhen } from '../cli/parse-when.ts';
import { formatLocalTime } from '../cli/trace-format.ts';
import { ExitCode } from '../errors.ts';
import { openConfiguredStore } from '../local-store/configured-store.ts';

export async function run(ctx: CommandContext, options: Record<string, unknown>): Promise<number> {
  const olderThan = typeof options.olderThan === 'string' ? options.olderThan : '30d';
  const cutoff = parseWhen(olderThan);
  const { store } = await openConfiguredStore({ cwd: ctx.cwd, env: ctx.env, homeDir: ctx.homeDir, flags: ctx.flags });
  const deleted = await store.prune(cutoff);
  const left = (await store.list({ limit: 1 })).length > 0;
  if (ctx.globals.json) {
    writeJson(ctx.stdout, { deleted, olderThan: cutoff.toISOString(), dir: store.dir });
  } else {
    writeLine(ctx.stdout, `Deleted ${deleted} trace${deleted === 1 ? '' : 's'} that started before ${formatLocalTime(cutoff.toISOString())} from ${store.dir}${left ? '' : ' (now empty)'}.`);
  }
  return ExitCode.ok;
}
