import { codeScore, quoteList, type Scorer } from './scorer.ts';

/** An /agent task calls every expected tool at least once; only /agent answers report their steps. */
export const scoreTools: Scorer = (answer, expect) => {
  const expected = expect.tools ?? [];
  if (expected.length === 0 || answer.endpoint !== 'agent' || answer.tools === null) return undefined;
  const called = new Set(answer.tools);
  const missing = expected.filter((tool) => !called.has(tool));
  const met = expected.length - missing.length;
  const found = called.size > 0 ? `called ${quoteList([...called])}` : 'called no tool';
  if (missing.length === 0) return codeScore('tools', met / expected.length, true, `${found}, as expected`);
  return codeScore('tools', met / expected.length, false, `did not call ${quoteList(missing)}; ${found}`);
};
