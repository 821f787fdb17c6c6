import { codeScore, type Scorer } from './scorer.ts';

/** The answer used no more tokens than the question's budget. */
export const scoreTokens: Scorer = (answer, expect) => {
  if (expect.maxTokens === undefined || answer.tokens === null) return undefined;
  const passed = answer.tokens <= expect.maxTokens;
  const used = `used ${answer.tokens.toLocaleString('en-US')} tokens`;
  return codeScore(
    'tokens',
    passed,
    passed,
    `${used}, ${passed ? 'within' : 'over'} the budget of ${expect.maxTokens.toLocaleString('en-US')}`,
  );
};
