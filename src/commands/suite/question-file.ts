import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type YAMLMap } from 'yaml';
import type { Expectations } from './eval/evaluation-types.ts';
import { ExitCode, ExpectedError } from '../../errors.ts';
import { EXPECTATIONS_HINT, ExpectationProblem, readExpectations } from './question-expectations.ts';

export interface SuiteQuestion {
  question: string;
  /** The file's own name for the question, kept in the results. */
  id?: string;
  /** What a good answer has; without it a question is only checked for an answer. */
  expect?: Expectations;
}

const FORMATS_HINT =
  'a .json or .yaml file holds a list of questions (strings, or objects with `question` or `query`, an optional `id` and optional `expect`); ' +
  'any other file holds one question per line (blank lines and lines starting with # are skipped)';
const QUESTION_KEYS = ['question', 'query', 'id', 'expect'];
/** Enough of a question without an id to recognise it in an error. */
const QUESTION_IN_ERROR_CHARS = 40;

/** Questions from `--file`: JSON or YAML by extension, else one per line. */
export async function loadQuestionFile(path: string, shownAs = path): Promise<SuiteQuestion[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ExpectedError(`cannot read ${shownAs}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`, {
      exitCode: ExitCode.usage,
      hint: FORMATS_HINT,
    });
  }
  return parseQuestionFile(text, shownAs);
}

export function parseQuestionFile(text: string, fileName: string): SuiteQuestion[] {
  const extension = extname(fileName).toLowerCase();
  const questions =
    extension === '.json' || extension === '.yaml' || extension === '.yml'
      ? parseList(text, fileName, extension === '.json' ? 'json' : 'yaml')
      : parseLines(text);
  if (questions.length === 0) throw problem(fileName, undefined, 'holds no questions');
  return questions;
}

function parseLines(text: string): SuiteQuestion[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((question) => ({ question }));
}

function parseList(text: string, fileName: string, format: 'json' | 'yaml'): SuiteQuestion[] {
  const lines = new LineCounter();
  // YAML's JSON schema refuses what JSON refuses, and unlike JSON.parse says on which line.
  const document = parseDocument(text, { lineCounter: lines, ...(format === 'json' && { schema: 'json' as const }) });
  const lineOf = (node: Node | null | undefined) => (node?.range ? lines.linePos(node.range[0]).line : undefined);
  const [syntax] = document.errors;
  if (syntax)
    throw problem(fileName, syntax.linePos?.[0].line, `is not valid ${format.toUpperCase()}: ${syntax.message.split(/ at line \d+/)[0]}`);
  const list = document.contents;
  if (!isSeq(list)) throw problem(fileName, lineOf(list), 'must hold a list of questions');
  // An id names one question in the results, in MLflow and in --compare: two questions cannot share it.
  const firstLineOfId = new Map<string, number | undefined>();
  return list.items.map((item, i) => {
    const at = lineOf(item as Node);
    const value: unknown = isScalar(item) || isMap(item) ? item.toJSON() : undefined;
    const question = questionOf(value);
    if (question === undefined) {
      throw problem(
        fileName,
        at,
        `item ${i + 1} is not a question: expected a non-empty string, or an object with \`question\` or \`query\``,
      );
    }
    if (question.id !== undefined) {
      if (firstLineOfId.has(question.id)) {
        const first = firstLineOfId.get(question.id);
        throw problem(
          fileName,
          at,
          `id "${question.id}" is used twice${first === undefined ? '' : ` (first on line ${first})`}: each question needs its own`,
        );
      }
      firstLineOfId.set(question.id, at);
    }
    return isMap(item) ? withExpectations(item, question, fileName, lineOf) : question;
  });
}

/** The question's other keys checked, and its `expect` read; a problem names the question and the line of the value. */
function withExpectations(
  item: YAMLMap,
  question: SuiteQuestion,
  fileName: string,
  lineOf: (node: Node | null | undefined) => number | undefined,
): SuiteQuestion {
  const label = `question "${question.id ?? cutQuestion(question.question)}"`;
  for (const pair of item.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    if (!QUESTION_KEYS.includes(key)) {
      throw problem(
        fileName,
        lineOf(pair.key as Node),
        `${label}: ${key} is not a question field (known: ${QUESTION_KEYS.join(', ')})`,
        EXPECTATIONS_HINT,
      );
    }
  }
  if (!item.has('expect')) return question;
  try {
    return { ...question, expect: readExpectations((item.get('expect', true) as Node | undefined) ?? null) };
  } catch (error) {
    if (!(error instanceof ExpectationProblem)) throw error;
    throw problem(fileName, lineOf(error.node) ?? lineOf(item), `${label}: ${error.message}`, EXPECTATIONS_HINT);
  }
}

function cutQuestion(text: string): string {
  return text.length > QUESTION_IN_ERROR_CHARS ? `${text.slice(0, QUESTION_IN_ERROR_CHARS - 1).trimEnd()}…` : text;
}

function questionOf(value: unknown): SuiteQuestion | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : { question: value.trim() };
  if (typeof value !== 'object' || value === null) return undefined;
  const { question, query, id } = value as { question?: unknown; query?: unknown; id?: unknown };
  const text = typeof question === 'string' ? question : query;
  if (typeof text !== 'string' || text.trim() === '') return undefined;
  return { question: text.trim(), ...((typeof id === 'string' || typeof id === 'number') && { id: String(id) }) };
}

function problem(fileName: string, line: number | undefined, message: string, hint = FORMATS_HINT): ExpectedError {
  return new ExpectedError(`${fileName}${line === undefined ? '' : `:${line}`}: ${message}`, { exitCode: ExitCode.usage, hint });
}
