import { Chalk, type ChalkInstance } from 'chalk';
import { jsonWithoutSecrets, maskSecrets } from '../config/configured-secrets.ts';
import type { CommandContext } from './context.ts';

/** Colour only for people: never with --no-color, NO_COLOR, --json, or when stdout is not a terminal. */
export function createPainter(ctx: Pick<CommandContext, 'globals' | 'env' | 'interactive'>): ChalkInstance {
  const enabled = ctx.globals.color && !ctx.globals.json && ctx.interactive && !ctx.env.NO_COLOR;
  return new Chalk({ level: enabled ? 1 : 0 });
}

/** Every line a command prints, whoever made its text: a configured secret in it is masked. */
export function writeLine(stream: NodeJS.WritableStream, line = ''): void {
  stream.write(`${maskSecrets(line)}\n`);
}

/** The configuration's and the command's notices, a `note:` line each, in the command's style for them (a colour). */
export function writeNotices(stream: NodeJS.WritableStream, notices: readonly string[], style: (text: string) => string): void {
  for (const notice of notices) writeLine(stream, style(`note: ${notice}`));
}

export function writeJson(stream: NodeJS.WritableStream, value: unknown): void {
  stream.write(`${jsonWithoutSecrets(value, 2)}\n`);
}

/**
 * Lines of at most `width` characters, broken at spaces where there are any (a terminal breaks in
 * the middle of words); later lines indented by `indent`, which counts within the width.
 */
export function wrapWords(text: string, width: number, indent = ''): string[] {
  const lines: string[] = [];
  let rest = text.replace(/\s+/g, ' ');
  let room = Math.max(1, width);
  while (rest.length > room) {
    // Only a word longer than a whole line is cut.
    const space = rest.lastIndexOf(' ', room);
    const at = space > 0 ? space : room;
    lines.push(rest.slice(0, at).trimEnd());
    rest = rest.slice(at).trimStart();
    room = Math.max(1, width - indent.length);
  }
  lines.push(rest);
  return lines.map((line, i) => (i === 0 ? line : `${indent}${line}`));
}
