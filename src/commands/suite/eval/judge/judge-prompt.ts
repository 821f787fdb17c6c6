import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { Expectations } from '../evaluation-types.ts';

/** What the judge is asked about one answer. */
export interface JudgeCase {
  question: string;
  answer: string;
  expect: Expectations;
  /** /rag: the cited sources, with their text where the built-in corpus has it. */
  sources?: { id: string; title: string; text?: string }[];
}

export type Criterion = 'correctness' | 'groundedness';

export interface Verdict {
  passed: boolean;
  rationale: string;
}

const SYSTEM =
  'You grade answers of an assistant for engineers who use MLflow, OpenTelemetry and Databricks. ' +
  'Reply with one JSON object and nothing else: {"rationale": "<one or two sentences>", "verdict": "yes" or "no"}.';

/** Shown of a reply that is not a verdict, so the rationale says what came instead. */
const REPLY_SHOWN_CHARS = 120;

export function judgeMessages(criterion: Criterion, judged: JudgeCase): ChatCompletionMessageParam[] {
  return [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: criterion === 'correctness' ? correctnessPrompt(judged) : groundednessPrompt(judged) },
  ];
}

function correctnessPrompt({ question, answer, expect }: JudgeCase): string {
  const facts = expect.mentions?.length ? `\n\nA good answer states these facts:\n${expect.mentions.map((m) => `- ${m}`).join('\n')}` : '';
  return (
    `Question: ${question}${facts}\n\nAnswer: ${answer}\n\n` +
    'Does the answer correctly answer the question' +
    (facts ? ', consistent with the facts above' : '') +
    '? Verdict "yes" or "no".'
  );
}

function groundednessPrompt({ answer, sources = [] }: JudgeCase): string {
  const listed = sources.map((s, i) => `[${i + 1}] ${s.title} (${s.id})${s.text ? `: ${s.text}` : ''}`).join('\n');
  return `Sources:\n${listed}\n\nAnswer: ${answer}\n\nIs every claim in the answer supported by the sources? Verdict "yes" or "no".`;
}

/** The verdict in the judge's reply, JSON or close to it; undefined when it gave none. */
export function readVerdict(reply: string): Verdict | undefined {
  const json = reply.match(/\{[\s\S]*\}/)?.[0];
  let parsed: { verdict?: unknown; rationale?: unknown } | undefined;
  try {
    parsed = json ? (JSON.parse(json) as typeof parsed) : undefined;
  } catch {
    parsed = undefined;
  }
  const verdict = typeof parsed?.verdict === 'string' ? parsed.verdict.trim().toLowerCase() : parsed?.verdict;
  const passed =
    verdict === 'yes' || verdict === true || verdict === 'pass'
      ? true
      : verdict === 'no' || verdict === false || verdict === 'fail'
        ? false
        : undefined;
  if (passed === undefined) return undefined;
  const rationale =
    typeof parsed?.rationale === 'string' && parsed.rationale.trim() !== '' ? parsed.rationale.trim() : 'the judge gave no rationale';
  return { passed, rationale };
}

export function unreadableReply(reply: string): string {
  const flat = reply.replace(/\s+/g, ' ').trim();
  const shown = flat.length > REPLY_SHOWN_CHARS ? `${flat.slice(0, REPLY_SHOWN_CHARS - 1)}…` : flat;
  return `the judge's reply held no verdict: ${shown === '' ? '(empty)' : `"${shown}"`}`;
}
