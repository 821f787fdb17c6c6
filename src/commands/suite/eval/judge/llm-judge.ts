import { ROOT_CONTEXT, context, type Tracer } from '@opentelemetry/api';
import { toLlmError } from '../../../../agent/llm-errors.ts';
import { CORPUS } from '../../../../agent/llm/corpus.ts';
import type { LlmClient } from '../../../../agent/llm/types.ts';
import { withSpan } from '../../../../tracing/with-span.ts';
import type { Score } from '../../../../destination/evaluation-items.ts';
import { judgeMessages, readVerdict, unreadableReply, type Criterion, type JudgeCase, type Verdict } from './judge-prompt.ts';
import { errorMessage } from '../../../../errors.ts';

export interface JudgedAnswer extends JudgeCase {
  /** The trace of the answer judged, recorded in the judge's own trace. */
  traceId: string | null;
}

export interface Judge {
  /** Correctness, and groundedness when the answer cites sources. */
  judge(answer: JudgedAnswer): Promise<Score[]>;
}

/**
 * An LLM judge on the configured model, called through the same instrumented client the agent uses:
 * each judgement is its own trace named `judge`, whose CHAT_MODEL span records the call.
 */
export function createLlmJudge({ llm, tracer }: { llm: LlmClient; tracer: Tracer }): Judge {
  const ask = async (criterion: Criterion, answer: JudgedAnswer): Promise<Score> => {
    let verdict: Verdict;
    try {
      // Not a child of whatever is active: a judgement is a trace of its own.
      verdict = await context.with(ROOT_CONTEXT, () =>
        withSpan(
          tracer,
          'judge',
          {
            type: 'CHAIN',
            inputs: { criterion, question: answer.question, answer: answer.answer, judged_trace_id: answer.traceId },
            outputs: (v) => v,
          },
          async () => {
            const response = await llm.client.chat.completions
              .create({ model: llm.model, messages: judgeMessages(criterion, answer), temperature: 0 })
              .catch((error: unknown) => {
                throw toLlmError(error, llm);
              });
            const reply = response.choices[0]?.message?.content ?? '';
            return readVerdict(reply) ?? { passed: false, rationale: unreadableReply(reply) };
          },
        ),
      );
    } catch (error) {
      verdict = { passed: false, rationale: `the judge could not answer: ${errorMessage(error)}` };
    }
    return {
      name: criterion,
      value: verdict.passed,
      passed: verdict.passed,
      rationale: verdict.rationale,
      source: { type: 'LLM_JUDGE', id: llm.model },
    };
  };

  return {
    async judge(answer) {
      const criteria: Criterion[] = answer.sources?.length ? ['correctness', 'groundedness'] : ['correctness'];
      // A source is judged by what it says: the built-in corpus has the text the answer was given.
      const sources = answer.sources?.map((source) => ({ ...source, text: source.text ?? CORPUS.find((p) => p.id === source.id)?.text }));
      const judged = { ...answer, ...(sources && { sources }) };
      return Promise.all(criteria.map((criterion) => ask(criterion, judged)));
    },
  };
}
