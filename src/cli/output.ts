import { Chalk, type ChalkInstance } from 'chalk';
import type { CommandContext } from './context.ts';

/** Colour only for people: never with --no-color, NO_COLOR, --json, or when stdout is not a terminal. */
export function createPainter(ctx: Pick<CommandContext, 'globals' | 'env' | 'interactive'>): ChalkInstance {
  const enabled = ctx.globals.color && !ctx.globals.json && ctx.interactive && !ctx.env.NO_COLOR;
  return new Chalk({ level: enabled ? 1 : 0 });
}

export function writeLine(stream: NodeJS.WritableStream, line = ''): void {
  stream.write(`${line}\n`);
}

export function writeJson(stream: NodeJS.WritableStream, value: unknown): void {
  stream.write(`${JSON.stringify(value, null, 2)}\n`);
}
