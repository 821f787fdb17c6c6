import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import { searchCorpus } from './llm/retrieve.ts';
import { evaluateExpression } from './calculator.ts';
import { errorMessage } from '../errors.ts';
import { TOP_K } from './request-limits.ts';

/** The agent's tools, described to the model in OpenAI's function-calling format. */
export const AGENT_TOOLS: ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'search_corpus',
      description: 'Search the built-in knowledge base of Databricks, MLflow and OpenTelemetry passages.',
      parameters: {
        type: 'object',
        properties: {
          query: { type: 'string', description: 'What to look for' },
          top_k: { type: 'integer', minimum: TOP_K.min, maximum: TOP_K.max, description: `How many passages (default ${TOP_K.default})` },
        },
        required: ['query'],
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'calculator',
      description: 'Evaluate an arithmetic expression with + - * / % ^ and parentheses.',
      parameters: {
        type: 'object',
        properties: { expression: { type: 'string', description: 'e.g. (17 * 23) / 2' } },
        required: ['expression'],
      },
    },
  },
];

/**
 * Runs one tool call. A bad call (unknown tool, arguments that are not JSON, a failing expression)
 * becomes an error result the model can read and recover from, not a failed request.
 */
export function runTool(name: string, rawArguments: string): { arguments: unknown; result: unknown; ok: boolean } {
  let args: Record<string, unknown>;
  try {
    args = JSON.parse(rawArguments || '{}') as Record<string, unknown>;
  } catch {
    return { arguments: rawArguments, result: { error: 'arguments are not valid JSON' }, ok: false };
  }
  try {
    switch (name) {
      case 'search_corpus': {
        const topK = typeof args.top_k === 'number' ? Math.min(Math.max(Math.trunc(args.top_k), TOP_K.min), TOP_K.max) : TOP_K.default;
        const hits = searchCorpus(String(args.query ?? ''), topK);
        return {
          arguments: args,
          ok: true,
          result: {
            passages: hits.map(({ passage, score }) => ({ id: passage.id, title: passage.title, text: passage.text, score: round(score) })),
          },
        };
      }
      case 'calculator':
        return { arguments: args, ok: true, result: { value: evaluateExpression(String(args.expression ?? '')) } };
      default:
        return { arguments: args, ok: false, result: { error: `unknown tool '${name}'` } };
    }
  } catch (error) {
    return { arguments: args, ok: false, result: { error: errorMessage(error) } };
  }
}

export function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
