import { formatLatency } from '../../../../util/format-latency.ts';
import { codeScore, type Scorer } from './scorer.ts';

/** The answer came within the question's latency budget. */
export const scoreLatency: Scorer = (answer, expect) => {
  if (expect.maxLatencyMs === undefined || answer.answer === null) return undefined;
  const passed = answer.latencyMs <= expect.maxLatencyMs;
  const took = `took ${formatLatency(answer.latencyMs)}`;
  return codeScore('latency', passed, passed, `${took}, ${passed ? 'within' : 'over'} the budget of ${formatLatency(expect.maxLatencyMs)}`);
};
