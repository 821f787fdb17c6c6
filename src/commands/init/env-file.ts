import { chmod, writeFile } from 'node:fs/promises';
import { parseDotenv } from '../../config/dotenv.ts';
import { readOptionalFile } from '../../config/read-optional-file.ts';
import { ExitCode, ExpectedError } from '../../errors.ts';

/** Owner read/write only: the file holds tokens and API keys. */
const OWNER_ONLY = 0o600;

/** `KEY=` at the start of a line, with python-dotenv's optional `export ` prefix. */
const BINDING = /^([^\S\r\n]*(?:export[^\S\r\n]+)?)([A-Za-z_][A-Za-z0-9_.-]*)[^\S\r\n]*=[^\S\r\n]*/;
/** A quoted value, which may run over several lines (the same patterns python-dotenv uses). */
const QUOTED = { "'": /'(?:\\'|[^'])*'/y, '"': /"(?:\\"|[^"])*"/y } as const;
const LINE = /[^\r\n]*(?:\r\n|\n|\r)?/y;
/** Lines after the value that would expose a quoted value which swallowed its closing quote. */
const PROBE_TAIL = `\nOTEL_MLFLOW_PROBE_A="'"\nOTEL_MLFLOW_PROBE_B='"'\n`;

/**
 * `values` written into `.env` text: each key already there is replaced where it stands (a later
 * repeat of it is dropped), other keys are appended, and every other line, comment included, is kept.
 */
export function mergeDotenv(text: string, values: Readonly<Record<string, string>>): string {
  const pending = new Map(Object.entries(values).map(([key, value]) => [key, formatDotenvValue(key, value)]));
  const written = new Set<string>();
  let merged = '';
  let position = 0;
  while (position < text.length) {
    LINE.lastIndex = position;
    LINE.exec(text);
    let end = LINE.lastIndex;
    const line = text.slice(position, end);
    const binding = BINDING.exec(line);
    const key = binding?.[2];
    if (binding && key !== undefined && pending.has(key)) {
      end = bindingEnd(text, position + binding[0].length, end);
      if (!written.has(key)) merged += `${binding[1]}${key}=${pending.get(key)}\n`;
      written.add(key);
    } else {
      merged += line;
    }
    position = end;
  }
  const appended = [...pending].filter(([key]) => !written.has(key));
  if (appended.length === 0) return merged;
  const separator = merged === '' || /[\r\n]$/.test(merged) ? '' : '\n';
  return `${merged}${separator}${appended.map(([key, value]) => `${key}=${value}\n`).join('')}`;
}

/** Where a binding whose value starts at `valueStart` ends: past a multi-line quoted value, else at the line's end. */
function bindingEnd(text: string, valueStart: number, lineEnd: number): number {
  const quote = text.charAt(valueStart);
  if (quote !== "'" && quote !== '"') return lineEnd;
  const pattern = QUOTED[quote];
  pattern.lastIndex = valueStart;
  if (!pattern.exec(text)) return lineEnd;
  LINE.lastIndex = pattern.lastIndex;
  LINE.exec(text);
  return LINE.lastIndex;
}

/**
 * The shortest spelling that python-dotenv (and parseDotenv, its twin) reads back as exactly `value`:
 * bare, else single-quoted, else double-quoted with escapes. Each is proven by parsing it, followed
 * by lines that catch a value that ran past its closing quote.
 */
export function formatDotenvValue(key: string, value: string): string {
  // python-dotenv expands ${NAME} in every value and has no escape for it.
  if (value.includes('${')) {
    throw new ExpectedError(`the value for ${key} contains "\${", which .env readers expand as a variable`, {
      exitCode: ExitCode.usage,
      hint: `set ${key} in the environment instead of .env`,
    });
  }
  const candidates = [
    value,
    `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`,
    `"${value
      .replace(/[\\"]/g, (c) => `\\${c}`)
      .replace(/\n/g, '\\n')
      .replace(/\r/g, '\\r')}"`,
  ];
  const spelling = candidates.find((candidate) => {
    const { values, badLines } = parseDotenv(`${key}=${candidate}${PROBE_TAIL}`, {});
    return (
      badLines.length === 0 &&
      values.get(key) === value &&
      values.get('OTEL_MLFLOW_PROBE_A') === "'" &&
      values.get('OTEL_MLFLOW_PROBE_B') === '"'
    );
  });
  if (spelling === undefined) {
    throw new ExpectedError(`the value for ${key} cannot be written to .env so that it reads back unchanged`, {
      exitCode: ExitCode.usage,
      hint: `set ${key} in the environment instead of .env`,
    });
  }
  return spelling;
}

/**
 * Merges `values` into the env file at `path` and leaves it readable by its owner only, also when
 * it existed before with wider permissions. Returns whether the file was created.
 */
export async function writeEnvFile(path: string, values: Readonly<Record<string, string>>): Promise<{ created: boolean }> {
  const existing = await readOptionalFile(path);
  const text = mergeDotenv(existing ?? '', values);
  // Narrow first, so the secrets never sit in a file others can read.
  if (existing !== undefined) await chmod(path, OWNER_ONLY);
  await writeFile(path, text, { mode: OWNER_ONLY });
  // A new file's mode was filtered through the umask; an old one kept its mode: make both exact.
  await chmod(path, OWNER_ONLY);
  return { created: existing === undefined };
}
