import { CORPUS, type Passage } from './corpus.ts';
import { isCalculator } from './offline-tool-calls.ts';
import { searchCorpus, searchTerms } from './retrieve.ts';

export interface ToolResult {
  /** The function that was called ('tool' when the call cannot be found). */
  name: string;
  /** Its JSON arguments as the model sent them. */
  arguments: string;
  content: string;
}

/** At most this many passages are quoted in one answer. */
const MAX_PASSAGES = 3;
/** A passage after the best one is quoted only when it scores at least this share of the best. */
const RELATIVE_CUTOFF = 0.6;
/** Sentences shorter than this are too generic to prove a passage was quoted. */
const MIN_QUOTED_SENTENCE = 30;
const MAX_QUOTED_QUESTION = 120;

/**
 * An answer from the passages the prompt quoted (a RAG context), or from the corpus when it quoted
 * none; 'Nothing found' when neither matches the question.
 */
export function answerFromConversation(question: string, conversation: string[]): string {
  if (question === '') return 'Ask me a question about MLflow, OpenTelemetry or Databricks.';
  const quoted = quotedPassages(conversation.map(readableText).join('\n'));
  const ranked = quoted.length > 0 ? rankAmong(question, quoted) : searchCorpus(question, MAX_PASSAGES);
  return ranked.length > 0 ? answerFromPassages(question, ranked) : nothingFound(question);
}

/** The answer once tools have run: calculator results stated, search results quoted. */
export function answerFromToolResults(question: string, results: ToolResult[]): string {
  const sentences: string[] = [];
  const searched: ToolResult[] = [];
  for (const result of results) {
    if (isCalculator(result.name)) sentences.push(calculationSentence(result));
    else searched.push(result);
  }
  if (searched.length > 0) {
    const text = searched.map((r) => readableText(r.content)).join('\n');
    const quoted = quotedPassages(text);
    if (quoted.length > 0) sentences.push(answerFromPassages(question, rankAmong(question, quoted)));
    else
      sentences.push(
        looseAnswer(
          question,
          text,
          searched.map((r) => r.name),
        ),
      );
  }
  return sentences.join(' ');
}

function calculationSentence(result: ToolResult): string {
  const expression = firstStringValue(result.arguments);
  const content = result.content.trim();
  const value = calculatorValue(content);
  if (value === undefined)
    return `The calculator could not evaluate ${expression ?? 'the expression'}: ${content || 'it returned nothing'}.`;
  return expression ? `${expression} = ${value}.` : `The calculator returned ${value}.`;
}

/** A number from '391', '{"result":391}' or '{"value":"391"}'; undefined for errors and prose. */
function calculatorValue(content: string): string | undefined {
  let parsed: unknown = content;
  try {
    parsed = JSON.parse(content);
  } catch {
    // Plain text is fine: many tools answer '391'.
  }
  if (parsed && typeof parsed === 'object') {
    const record = parsed as Record<string, unknown>;
    parsed = record.result ?? record.value ?? record.answer;
  }
  const text = typeof parsed === 'number' ? String(parsed) : typeof parsed === 'string' ? parsed.trim() : '';
  return /^-?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(text) ? text : undefined;
}

function firstStringValue(json: string): string | undefined {
  try {
    const value = Object.values(JSON.parse(json) as Record<string, unknown>).find((v) => typeof v === 'string');
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The best sentences of the best passages, each passage's sentences followed by its title in
 * brackets: two sentences from the top passage, one from each runner-up.
 */
function answerFromPassages(question: string, ranked: { passage: Passage; score: number }[]): string {
  const top = ranked[0]!.score;
  const chosen = ranked.slice(0, MAX_PASSAGES).filter((r, i) => i === 0 || r.score >= RELATIVE_CUTOFF * top);
  const terms = new Set(searchTerms(question));
  return chosen
    .map(({ passage }, i) => `${bestSentences(splitSentences(passage.text), terms, i === 0 ? 2 : 1).join(' ')} [${passage.title}]`)
    .join(' ');
}

/** Tool output that quotes no corpus passage: its sentences that share words with the question. */
function looseAnswer(question: string, text: string, toolNames: string[]): string {
  const terms = new Set(searchTerms(question));
  const sentences = splitSentences(text.replace(/\s+/g, ' ').trim()).filter((s) => overlap(s, terms) > 0);
  const source = [...new Set(toolNames)].join(', ');
  if (sentences.length === 0) return `The ${source} tool found nothing that answers this.`;
  return `${bestSentences(sentences, terms, 2).join(' ')} [${source}]`;
}

function nothingFound(question: string): string {
  const shown = question.length > MAX_QUOTED_QUESTION ? `${question.slice(0, MAX_QUOTED_QUESTION)}…` : question;
  return (
    `I found nothing about "${shown}" in my built-in notes on MLflow, OpenTelemetry and Databricks. ` +
    'I am the offline model of otel-mlflow and answer only from those notes; configure the openai or databricks provider for other questions.'
  );
}

/** The `count` sentences sharing most terms with the question (the opening sentence wins ties), in text order. */
function bestSentences(sentences: string[], terms: Set<string>, count: number): string[] {
  return sentences
    .map((sentence, position) => ({ sentence, position, score: overlap(sentence, terms) + (position === 0 ? 0.5 : 0) }))
    .sort((a, b) => b.score - a.score || a.position - b.position)
    .slice(0, count)
    .sort((a, b) => a.position - b.position)
    .map((s) => s.sentence);
}

function overlap(sentence: string, terms: Set<string>): number {
  return new Set(searchTerms(sentence).filter((term) => terms.has(term))).size;
}

function splitSentences(text: string): string[] {
  return text.split(/(?<=[.!?])\s+(?=[A-Z0-9`'"(])/).filter((s) => s.trim() !== '');
}

/** Corpus passages whose sentences appear in `text`, so an answer can cite what the prompt gave it. */
function quotedPassages(text: string): Passage[] {
  const haystack = text.replace(/\s+/g, ' ');
  if (haystack.length < MIN_QUOTED_SENTENCE) return [];
  return CORPUS.filter((passage) =>
    splitSentences(passage.text).some((sentence) => sentence.length >= MIN_QUOTED_SENTENCE && haystack.includes(sentence)),
  );
}

/** Quoted passages ordered by how well they match the question; unmatched ones keep their order after. */
function rankAmong(question: string, passages: Passage[]): { passage: Passage; score: number }[] {
  const ids = new Set(passages.map((p) => p.id));
  const matched = searchCorpus(question, CORPUS.length).filter((r) => ids.has(r.passage.id));
  const matchedIds = new Set(matched.map((r) => r.passage.id));
  return [...matched, ...passages.filter((p) => !matchedIds.has(p.id)).map((passage) => ({ passage, score: 0 }))];
}

/** JSON tool output and prompts carry passages as escaped strings; this returns their plain text. */
function readableText(text: string): string {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return text;
  try {
    return stringsIn(JSON.parse(trimmed)).join('\n');
  } catch {
    return text;
  }
}

function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsIn);
  return [];
}
