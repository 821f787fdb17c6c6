import { codeScore, type Scorer } from './scorer.ts';

/** An answer came back with a 2xx status; every other scorer needs one. */
export const scoreAnswered: Scorer = (answer) => {
  const ok = answer.status === 'ok' && answer.httpStatus !== null && answer.httpStatus >= 200 && answer.httpStatus < 300;
  if (ok) return codeScore('answered', true, true, `answered with HTTP ${answer.httpStatus}`);
  return codeScore(
    'answered',
    false,
    false,
    `no answer: ${answer.error ?? (answer.httpStatus === null ? 'no HTTP answer' : `HTTP ${answer.httpStatus}`)}`,
  );
};
