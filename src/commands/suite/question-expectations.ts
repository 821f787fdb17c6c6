import { isMap, isScalar, isSeq, type Node } from 'yaml';
import type { Expectations } from './eval/evaluation-types.ts';

/** A problem with one value, at the line of the node that holds it. */
export class ExpectationProblem extends Error {
  readonly node: Node | null | undefined;
  constructor(message: string, node: Node | null | undefined) {
    super(message);
    this.name = 'ExpectationProblem';
    this.node = node;
  }
}

export const EXPECTATIONS_HINT =
  'under a question, `expect` holds any of: mentions, cites, tools (lists of strings; a mention `a | b` is met by either) ' +
  'and max_latency_ms, max_tokens (positive whole numbers), e.g. ' +
  '{"question": "What is OTLP?", "expect": {"mentions": ["OTLP"], "max_tokens": 2000}}';

const LIST_KEYS = { mentions: 'mentions', cites: 'cites', tools: 'tools' } as const;
const BUDGET_KEYS = { max_latency_ms: 'maxLatencyMs', max_tokens: 'maxTokens' } as const;
const KNOWN_KEYS = [...Object.keys(LIST_KEYS), ...Object.keys(BUDGET_KEYS)];

/**
 * A question's `expect` node, snake_case as files write it, as camelCase Expectations. Every key is
 * checked, unknown ones too: a misspelt expectation would otherwise let a question pass unchecked.
 */
export function readExpectations(node: Node | null): Expectations {
  if (!isMap(node)) throw new ExpectationProblem(`expect must be a mapping of ${KNOWN_KEYS.join(', ')}`, node);
  const expectations: Expectations = {};
  for (const pair of node.items) {
    const keyNode = pair.key as Node | null;
    const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
    const value = pair.value as Node | null;
    if (key in LIST_KEYS) expectations[LIST_KEYS[key as keyof typeof LIST_KEYS]] = stringList(value, `expect.${key}`);
    else if (key in BUDGET_KEYS) expectations[BUDGET_KEYS[key as keyof typeof BUDGET_KEYS]] = positiveWholeNumber(value, `expect.${key}`);
    else throw new ExpectationProblem(`expect.${key} is not an expectation (known: ${KNOWN_KEYS.join(', ')})`, keyNode);
  }
  return expectations;
}

function stringList(node: Node | null, name: string): string[] {
  if (!isSeq(node)) throw new ExpectationProblem(`${name} must be a list of strings`, node);
  return node.items.map((item, i) => {
    const value = isScalar(item) ? item.value : undefined;
    // YAML reads 3.10 as the number 3.1: only a quoted value keeps what was written.
    if (typeof value === 'number')
      throw new ExpectationProblem(`${name} item ${i + 1} must be a string (quote numbers, e.g. "3.10")`, item as Node);
    if (typeof value !== 'string' || value.trim() === '')
      throw new ExpectationProblem(`${name} item ${i + 1} must be a non-empty string`, item as Node);
    return value.trim();
  });
}

function positiveWholeNumber(node: Node | null, name: string): number {
  const value = isScalar(node) ? node.value : undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ExpectationProblem(`${name} must be a positive whole number`, node);
  }
  return value;
}
