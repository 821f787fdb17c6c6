import { searchTerms } from './retrieve.ts';

export interface OfflineTool {
  name: string;
  description?: string;
  /** JSON Schema of the arguments, as the request gave it. */
  parameters?: Record<string, unknown>;
}

export type OfflineToolChoice = 'auto' | 'none' | 'required' | { name: string };

export interface OfflineToolCall {
  name: string;
  /** JSON text, as OpenAI sends function arguments. */
  arguments: string;
}

const CALCULATOR_NAME = /calc|math|arith|evaluat|comput/i;
const SEARCH_NAME = /search|retriev|look_?up|find|docs|corpus|knowledge/i;
/** Longest search query sent, so a pasted document does not become a tool argument. */
const MAX_QUERY_CHARS = 300;
/** Count parameters (top_k, limit) without a default get this: enough passages to answer from. */
const DEFAULT_COUNT = 3;

export function isCalculator(name: string, description = ''): boolean {
  return CALCULATOR_NAME.test(name) || /arithmetic|calculat/i.test(description);
}

function isSearch(tool: OfflineTool): boolean {
  return !isCalculator(tool.name, tool.description) && (SEARCH_NAME.test(tool.name) || /search|retriev/i.test(tool.description ?? ''));
}

/**
 * The calls a sensible model would make: the calculator for arithmetic in the question, the search
 * tool for anything else it asks about, or exactly the tool that `tool_choice` names.
 */
export function chooseToolCalls(question: string, tools: OfflineTool[], choice: OfflineToolChoice): OfflineToolCall[] {
  const expression = findArithmetic(question);
  const calculator = tools.find((tool) => isCalculator(tool.name, tool.description));
  const search = tools.find(isSearch);
  const query = question.slice(0, MAX_QUERY_CHARS);

  if (typeof choice === 'object') {
    const named = tools.find((tool) => tool.name === choice.name);
    if (!named) return [];
    return [callTool(named, named === calculator && expression ? expression : query)];
  }
  const calls: OfflineToolCall[] = [];
  if (expression && calculator) calls.push(callTool(calculator, expression));
  if (search && query !== '' && (!expression || asksMoreThanArithmetic(question, expression))) calls.push(callTool(search, query));
  if (calls.length === 0 && choice === 'required' && tools[0]) calls.push(callTool(tools[0], expression ?? query));
  return calls;
}

const NUMBER = String.raw`\d+(?:\.\d+)?`;
const OPERAND = String.raw`\(*\s*-?\s*${NUMBER}\s*\)*`;
const OPERATOR = String.raw`(?:\*\*|[-+*/^%×÷x])`;
const EXPRESSION = new RegExp(String.raw`${OPERAND}(?:\s*${OPERATOR}\s*${OPERAND})+`);
const SPOKEN_OPERATORS: [RegExp, string][] = [
  [/\bmultiplied by\b|\btimes\b/gi, '*'],
  [/\bdivided by\b|\bover\b/gi, '/'],
  [/\bplus\b/gi, '+'],
  [/\bminus\b/gi, '-'],
  [/\bto the power of\b/gi, '^'],
];

/** The first arithmetic expression in `text` ('17 * 23', '(12.5 + 3) / 2', '6 times 7'), normalised. */
function findArithmetic(text: string): string | undefined {
  const spoken = SPOKEN_OPERATORS.reduce((t, [pattern, symbol]) => t.replace(pattern, symbol), text);
  // ISO dates look like subtractions.
  const match = EXPRESSION.exec(spoken.replace(/\d{4}-\d{2}-\d{2}/g, ' '));
  if (!match) return undefined;
  const expression = balanceParentheses(match[0].replace(/×|x/g, '*').replace(/÷/g, '/').replace(/\s+/g, ' ').trim());
  return /\d\s*(\*\*|[-+*/^%])\s*[-(]*\s*\d/.test(expression) ? expression : undefined;
}

/** Drops the unmatched '(' a match can start with and the unmatched ')' it can end with. */
function balanceParentheses(expression: string): string {
  let e = expression;
  const count = (ch: string) => e.split(ch).length - 1;
  while (count('(') > count(')') && e.startsWith('(')) e = e.slice(1).trim();
  while (count(')') > count('(') && e.endsWith(')')) e = e.slice(0, -1).trim();
  return e;
}

const ARITHMETIC_TERMS = new Set(
  searchTerms(
    'calculate compute evaluate work out multiply multiplied times plus minus divided sum product result number equal equals answer much many',
  ),
);

function asksMoreThanArithmetic(question: string, expression: string): boolean {
  const rest = question.replace(EXPRESSION, ' ').replace(expression, ' ');
  return searchTerms(rest).some((term) => !ARITHMETIC_TERMS.has(term) && !/^\d/.test(term));
}

interface PropertySchema {
  type?: unknown;
  default?: unknown;
  enum?: unknown;
}

const VALUE_PARAMETERS = ['query', 'q', 'question', 'search_query', 'expression', 'expr', 'input', 'text'];

/** Valid arguments for `tool`: `value` in its main string parameter, defaults for the other required ones. */
function callTool(tool: OfflineTool, value: string): OfflineToolCall {
  const properties = (tool.parameters?.properties ?? {}) as Record<string, PropertySchema>;
  const required = Array.isArray(tool.parameters?.required)
    ? (tool.parameters.required as unknown[]).filter((n) => typeof n === 'string')
    : [];
  const names = Object.keys(properties);
  const isString = (name: string) => properties[name]?.type === undefined || properties[name]?.type === 'string';
  const main =
    VALUE_PARAMETERS.find((name) => names.includes(name)) ??
    required.find(isString) ??
    names.find(isString) ??
    (isCalculator(tool.name, tool.description) ? 'expression' : 'query');
  const args: Record<string, unknown> = { [main]: value };
  for (const name of required) if (!(name in args)) args[name] = defaultValue(properties[name] ?? {}, value);
  return { name: tool.name, arguments: JSON.stringify(args) };
}

function defaultValue(schema: PropertySchema, value: string): unknown {
  if (schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  switch (schema.type) {
    case 'integer':
    case 'number':
      return DEFAULT_COUNT;
    case 'boolean':
      return false;
    case 'array':
      return [];
    case 'object':
      return {};
    default:
      return value;
  }
}
