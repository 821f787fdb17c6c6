import { join } from 'node:path';
import { readOptionalFile } from './read-optional-file.ts';

export interface Dotenv {
  path: string;
  /** `null` for a bare `KEY` line without `=`, which python-dotenv keeps as "no value". */
  values: ReadonlyMap<string, string | null>;
  /** 1-based lines python-dotenv would skip with a warning; reported, never quoted (they may hold secrets). */
  badLines: number[];
}

/** Reads `.env` in `cwd`; undefined when there is none. */
export async function readDotenv(cwd: string, env: Readonly<Record<string, string | undefined>>): Promise<Dotenv | undefined> {
  const path = join(cwd, '.env');
  const text = await readOptionalFile(path);
  if (text === undefined) return undefined;
  return { path, ...parseDotenv(text, env) };
}

// The grammar of python-dotenv's parser.py, so a .env written for the Python demo means the same here.
const MULTILINE_WHITESPACE = /\s*/y;
const EXPORT = /(?:export[^\S\r\n]+)?/y;
const SINGLE_QUOTED_KEY = /'([^']+)'/y;
const UNQUOTED_KEY = /([^=#\s]+)/y;
const WHITESPACE = /[^\S\r\n]*/y;
const EQUAL_SIGN = /(=[^\S\r\n]*)/y;
// A backslash escapes whatever follows it, as python-dotenv 1.2.3 and on read quotes: `"C:\\"` ends at its
// second quote (the first releases took `\"` for an escaped quote there, and lost the line and the next).
const SINGLE_QUOTED_VALUE = /'((?:\\.|[^'\\])*)'/sy;
const DOUBLE_QUOTED_VALUE = /"((?:\\.|[^"\\])*)"/sy;
const UNQUOTED_VALUE = /([^\r\n]*)/y;
const COMMENT = /(?:[^\S\r\n]*#[^\r\n]*)?/y;
const END_OF_LINE = /[^\S\r\n]*(?:\r\n|\n|\r|$)/y;
const REST_OF_LINE = /[^\r\n]*(?:\r|\n|\r\n)?/y;
const DOUBLE_QUOTE_ESCAPES = /\\[\\'"abfnrtv]/g;
const SINGLE_QUOTE_ESCAPES = /\\[\\']/g;
const ESCAPED: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
const POSIX_VARIABLE = /\$\{([^}:]*)(?::-([^}]*))?\}/g;

class ParseError extends Error {}

class Reader {
  readonly text: string;
  position = 0;
  constructor(text: string) {
    this.text = text;
  }
  hasNext(): boolean {
    return this.position < this.text.length;
  }
  peek(): string {
    return this.text.charAt(this.position);
  }
  read(regex: RegExp): string[] {
    regex.lastIndex = this.position;
    const match = regex.exec(this.text);
    if (!match) throw new ParseError();
    this.position = regex.lastIndex;
    return match.slice(1).map((group) => group ?? '');
  }
  lineAt(position: number): number {
    return this.text.slice(0, position).split(/\r\n|\n|\r/).length;
  }
}

/**
 * Parses .env text as python-dotenv does by default: `export ` prefixes, comments, single and double
 * quotes (escapes only in double quotes), then `${VAR}` / `${VAR:-default}` resolved against the
 * process environment first and earlier keys of the file second (load_dotenv with override=False).
 */
export function parseDotenv(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
): { values: Map<string, string | null>; badLines: number[] } {
  const reader = new Reader(text.replace(/^\ufeff/, ''));
  const raw: [string, string | null][] = [];
  const badLines: number[] = [];
  while (reader.hasNext()) {
    reader.read(MULTILINE_WHITESPACE);
    if (!reader.hasNext()) break;
    const line = reader.lineAt(reader.position);
    try {
      const binding = parseBinding(reader);
      if (binding) raw.push(binding);
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      badLines.push(line);
      reader.read(REST_OF_LINE);
    }
  }
  const values = new Map<string, string | null>();
  for (const [key, value] of raw) {
    values.set(key, value === null ? null : interpolate(value, values, env));
  }
  return { values, badLines };
}

function parseBinding(reader: Reader): [string, string | null] | undefined {
  reader.read(EXPORT);
  const key = parseKey(reader);
  reader.read(WHITESPACE);
  let value: string | null = null;
  if (reader.peek() === '=') {
    const [equalSign = '='] = reader.read(EQUAL_SIGN);
    value = parseValue(reader, equalSign.length > 1);
  }
  reader.read(COMMENT);
  reader.read(END_OF_LINE);
  return key === undefined ? undefined : [key, value];
}

function parseKey(reader: Reader): string | undefined {
  const char = reader.peek();
  if (char === '#') return undefined;
  const [key] = reader.read(char === "'" ? SINGLE_QUOTED_KEY : UNQUOTED_KEY);
  return key;
}

function parseValue(reader: Reader, precededByWhitespace: boolean): string {
  const char = reader.peek();
  if (char === "'") {
    const [value = ''] = reader.read(SINGLE_QUOTED_VALUE);
    return value.replace(SINGLE_QUOTE_ESCAPES, (escaped) => escaped.charAt(1));
  }
  if (char === '"') {
    const [value = ''] = reader.read(DOUBLE_QUOTED_VALUE);
    return value.replace(DOUBLE_QUOTE_ESCAPES, (escaped) => ESCAPED[escaped.charAt(1)] ?? escaped.charAt(1));
  }
  if (char === '' || char === '\n' || char === '\r') return '';
  const [part = ''] = reader.read(UNQUOTED_VALUE);
  // `KEY=  # note` is empty; `KEY=#value` is a value that starts with '#'.
  if (precededByWhitespace && part.startsWith('#')) return '';
  return part.replace(/\s+#.*/, '').trimEnd();
}

function interpolate(
  value: string,
  earlier: ReadonlyMap<string, string | null>,
  env: Readonly<Record<string, string | undefined>>,
): string {
  return value.replace(POSIX_VARIABLE, (_match, name: string, fallback: string | undefined) => {
    const fromEnv = env[name];
    if (fromEnv !== undefined) return fromEnv;
    if (earlier.has(name)) return earlier.get(name) ?? '';
    return fallback ?? '';
  });
}
