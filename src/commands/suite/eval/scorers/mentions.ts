import { codeScore, quoteList, type Scorer } from './scorer.ts';

/** `a | b`: either phrase meets the expectation; a `|` without spaces around it is part of the phrase. */
const ALTERNATIVES = /\s+\|\s+/;

/** The answer mentions every expected phrase (case and spacing aside); the value is the share mentioned. */
export const scoreMentions: Scorer = (answer, expect) => {
  const expected = expect.mentions ?? [];
  if (expected.length === 0 || answer.answer === null) return undefined;
  const text = normalise(answer.answer);
  const missing = expected.filter((entry) => !entry.split(ALTERNATIVES).some((phrase) => text.includes(normalise(phrase))));
  const met = expected.length - missing.length;
  const value = met / expected.length;
  if (missing.length === 0) return codeScore('mentions', value, true, `mentions all ${expected.length} expected: ${quoteList(expected)}`);
  return codeScore('mentions', value, false, `missing ${quoteList(missing)} (${met} of ${expected.length} expected mentioned)`);
};

function normalise(text: string): string {
  return text.replace(/\s+/g, ' ').trim().toLowerCase();
}
