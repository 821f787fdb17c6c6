import type { ChalkInstance } from 'chalk';
import type { Ora } from 'ora';
import type { CheckResult, CheckStatus, DoctorReporter } from './checks/check.ts';
import type { CommandContext } from '../../cli/context.ts';
import { createPainter, wrapWords, writeLine } from '../../cli/output.ts';
import { terminalWidth } from '../../cli/trace-format.ts';

const SYMBOLS: Record<CheckStatus, string> = { ok: '✔', warn: '!', fail: '✖', skipped: '-' };

function colour(paint: ChalkInstance, status: CheckStatus, text: string): string {
  return { ok: paint.green, warn: paint.yellow, fail: paint.red, skipped: paint.dim }[status](text);
}

/** The width of `✔ ok      `: continuation lines and hints start under the title. */
const INDENT = ' '.repeat(10);

/** A check's result wrapped at spaces to `width`, so a terminal never breaks it inside a word. */
function formatCheck(paint: ChalkInstance, result: CheckResult, width: number): string[] {
  const room = width - INDENT.length;
  // A detail of several lines (a list of configuration problems) keeps its lines: each is wrapped on its own.
  const [firstLine = '', ...moreLines] = `${result.title}: ${result.detail}`.split('\n');
  const [first = '', ...rest] = [
    ...wrapWords(firstLine, room),
    ...moreLines.flatMap((line) => {
      const item = /^\s*- /.test(line);
      return wrapWords(line.trim(), room, item ? '  ' : '');
    }),
  ];
  const head = `${colour(paint, result.status, `${SYMBOLS[result.status]} ${result.status.padEnd(7)}`)} ${paint.bold(result.title)}${first.slice(result.title.length)}`;
  const hint =
    result.hint && result.status !== 'ok' ? wrapWords(`hint: ${result.hint}`, room).map((line) => `${INDENT}${paint.dim(line)}`) : [];
  return [head, ...rest.map((line) => `${INDENT}${line}`), ...hint];
}

export interface CheckReporter extends DoctorReporter {
  /** Clears the spinner so a prompt can use the terminal. */
  suspend(): void;
}

/** A spinner per check on a terminal; plain result lines otherwise; nothing at all with --json. */
export async function createCheckReporter(ctx: CommandContext): Promise<CheckReporter | undefined> {
  if (ctx.globals.json) return undefined;
  const paint = createPainter(ctx);
  const width = terminalWidth(ctx);
  const ora = ctx.interactive ? (await import('ora')).default : undefined;
  let spinner: Ora | undefined;
  return {
    start(_id, title) {
      spinner = ora?.({ text: title, stream: ctx.stdout, color: 'cyan' }).start();
    },
    end(result) {
      spinner?.stop();
      spinner = undefined;
      for (const line of formatCheck(paint, result, width)) writeLine(ctx.stdout, line);
    },
    suspend() {
      spinner?.stop();
      spinner = undefined;
    },
  };
}
