import { codeScore, quoteList, type Scorer } from './scorer.ts';

/** A /rag answer cites every expected source, named by its id or its title; only /rag answers have sources. */
export const scoreCites: Scorer = (answer, expect) => {
  const expected = expect.cites ?? [];
  if (expected.length === 0 || answer.endpoint !== 'rag' || answer.sources === null) return undefined;
  const cited = answer.sources.flatMap((source) => [source.id.toLowerCase(), source.title.toLowerCase()]);
  const missing = expected.filter((entry) => !cited.includes(entry.toLowerCase()));
  const met = expected.length - missing.length;
  const found = answer.sources.length > 0 ? `cited ${quoteList(answer.sources.map((s) => s.id))}` : 'cited nothing';
  if (missing.length === 0) return codeScore('cites', met / expected.length, true, `cites all ${expected.length} expected: ${found}`);
  return codeScore('cites', met / expected.length, false, `does not cite ${quoteList(missing)}; ${found}`);
};
