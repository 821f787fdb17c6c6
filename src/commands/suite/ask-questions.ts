import type { Endpoint } from '../../agent/client/endpoints.ts';
import { postQuestion } from '../../agent/client/post-question.ts';
import type { SuiteQuestion } from './question-file.ts';
import { LLM_UNREACHABLE } from '../../agent/server/llm-error-codes.ts';
import { runPool } from '../../util/worker-pool.ts';

/** Enough of the answer to recognise it in a table or a results file. */
const ANSWER_PREVIEW_CHARS = 120;

/** One question's outcome, as `--json` and `--output` write it: every key always present but `error`. */
export interface SuiteResult {
  /** 1-based position in the run (repeats continue the count). */
  index: number;
  /** The question's id from `--file` or the built-in suite. */
  id: string | null;
  question: string;
  status: 'ok' | 'failed';
  /** Null when no HTTP answer came. */
  httpStatus: number | null;
  error?: string;
  latencyMs: number;
  /** Total tokens of the answer; null when it failed. */
  tokens: number | null;
  traceId: string | null;
  traceUrl: string | null;
  answerPreview: string | null;
  /** The whole answer, for the scorers; null when it failed. */
  answer: string | null;
  /** /rag: the sources the answer cites; null elsewhere, or when it failed. */
  sources: { id: string; title: string }[] | null;
  /** /agent: the tools called, in call order; null elsewhere, or when it failed. */
  tools: string[] | null;
}

export interface AskQuestionsOptions {
  server: URL;
  endpoint: Endpoint;
  questions: readonly SuiteQuestion[];
  repeat: number;
  concurrency: number;
  sessionId?: string;
  authToken?: string;
  timeoutMs: number;
  /**
   * Aborted by a person's Ctrl-C: no further question is asked, and those waiting for their answer
   * stop waiting. Neither counts as asked.
   */
  signal?: AbortSignal;
  /** Called as each question finishes (in finishing order); awaited before that worker takes the next. */
  onResult?: (result: SuiteResult, question: SuiteQuestion) => void | Promise<void>;
}

/** Why a run stops before its last question: what refuses one question refuses every other alike. */
export type RunStop = { reason: 'token-refused' | 'llm-unreachable'; result: SuiteResult };

/**
 * Every question (repeated) against the server, a bounded number at a time; results in question
 * order. A refused token (401) or a model provider that cannot be reached at all fails every question
 * alike, so no further one is asked after the first: the results then hold only the questions that
 * were asked, and `stopped` says why.
 */
export async function askQuestions(options: AskQuestionsOptions): Promise<{ results: SuiteResult[]; stopped?: RunStop }> {
  const runs = Array.from({ length: options.repeat }, () => options.questions).flat();
  let stopped: RunStop | undefined;
  const results = await runPool(runs, options.concurrency, async (question, i) => {
    if (stopped || options.signal?.aborted) return undefined;
    const { result, code } = await askOne(options, question, i + 1);
    if (result.status === 'failed' && options.signal?.aborted) return undefined;
    if (result.httpStatus === 401) stopped ??= { reason: 'token-refused', result };
    if (code === LLM_UNREACHABLE) stopped ??= { reason: 'llm-unreachable', result };
    await options.onResult?.(result, question);
    return result;
  });
  return { results: results.filter((result) => result !== undefined), ...(stopped && { stopped }) };
}

async function askOne(
  options: AskQuestionsOptions,
  { question, id }: SuiteQuestion,
  index: number,
): Promise<{ result: SuiteResult; code?: string }> {
  const started = performance.now();
  const outcome = await postQuestion(options.server, options.endpoint, question, {
    ...(options.sessionId !== undefined && { sessionId: options.sessionId }),
    ...(options.authToken !== undefined && { authToken: options.authToken }),
    timeoutMs: options.timeoutMs,
    ...(options.signal && { signal: options.signal }),
  });
  const latencyMs = Math.round(performance.now() - started);
  const common = { index, id: id ?? null, question };
  if (outcome.ok) {
    const { answer } = outcome;
    const result: SuiteResult = {
      ...common,
      status: 'ok',
      httpStatus: outcome.httpStatus,
      latencyMs,
      tokens: answer.usage.total_tokens,
      traceId: answer.traceId ?? null,
      traceUrl: answer.traceUrl ?? null,
      answerPreview: preview(answer.answer),
      answer: answer.answer,
      sources: options.endpoint === 'rag' ? (answer.sources ?? []).map(({ id, title }) => ({ id, title })) : null,
      tools: options.endpoint === 'agent' ? (answer.steps ?? []).flatMap((step) => step.tool_calls.map((call) => call.name)) : null,
    };
    return { result };
  }
  const result: SuiteResult = {
    ...common,
    status: 'failed',
    httpStatus: outcome.httpStatus,
    error: outcome.error,
    latencyMs,
    tokens: null,
    traceId: outcome.traceId ?? null,
    traceUrl: null,
    answerPreview: null,
    answer: null,
    sources: null,
    tools: null,
  };
  return { result, ...(outcome.code !== undefined && { code: outcome.code }) };
}

function preview(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > ANSWER_PREVIEW_CHARS ? `${flat.slice(0, ANSWER_PREVIEW_CHARS - 1)}…` : flat;
}
