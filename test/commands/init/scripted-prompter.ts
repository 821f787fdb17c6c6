import assert from 'node:assert/strict';
import type { ExpectedError } from '../../../src/errors.ts';
import type { InitProgress } from '../../../src/commands/init/init-session.ts';
import type { Choice, Prompter, Validate } from '../../../src/commands/init/prompter.ts';

/**
 * One expected question and the answer a person gives: the value to pick (or `{ named }`, the choice
 * as shown), the text to type ('' takes the default), or yes/no.
 */
export interface ScriptedAnswer {
  /** The question must match this. */
  asks: RegExp;
  answer: unknown;
}

const isNamed = (answer: unknown): answer is { named: string } => typeof answer === 'object' && answer !== null && 'named' in answer;

export interface Asked {
  kind: 'select' | 'input' | 'password' | 'confirm';
  message: string;
  default?: unknown;
  choices?: Choice<unknown>[];
}

/**
 * A person answering from a script: each question must be the next one expected, a typed answer
 * must pass the prompt's validation (as the terminal would insist), and a select answer must be
 * one of the choices and not disabled.
 */
export function scriptedPrompter(script: ScriptedAnswer[]): Prompter & { asked: Asked[]; assertDone(): void } {
  const queue = [...script];
  const asked: Asked[] = [];
  const next = (question: Asked) => {
    asked.push(question);
    const step = queue.shift();
    assert.ok(step, `unexpected question: ${question.message}`);
    assert.match(question.message, step.asks);
    return step.answer;
  };
  const typed = (answer: unknown, validate: Validate | undefined, fallback?: string) => {
    const value = answer === '' && fallback !== undefined ? fallback : String(answer);
    const verdict = validate?.(value) ?? true;
    assert.equal(verdict, true, `the prompt would refuse '${value}': ${String(verdict)}`);
    return value;
  };
  return {
    asked,
    async select<T>(q: { message: string; choices: Choice<T>[]; default?: T }): Promise<T> {
      const answer = next({ kind: 'select', message: q.message, default: q.default, choices: q.choices as Choice<unknown>[] });
      const choice = q.choices.find((c) => (isNamed(answer) ? c.name === answer.named : c.value === answer));
      assert.ok(choice, `'${String(answer)}' is not a choice of "${q.message}"`);
      assert.equal(choice.disabled, undefined, `'${String(answer)}' is disabled`);
      return choice.value;
    },
    async input(q) {
      return typed(next({ kind: 'input', message: q.message, default: q.default }), q.validate, q.default);
    },
    async password(q) {
      return typed(next({ kind: 'password', message: q.message }), q.validate);
    },
    async confirm(q) {
      return Boolean(next({ kind: 'confirm', message: q.message, default: q.default }));
    },
    assertDone() {
      assert.deepEqual(
        queue.map((s) => String(s.asks)),
        [],
        'questions that were never asked',
      );
    },
  };
}

/** What a person would have seen between the questions. */
export function recordedProgress(): InitProgress & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    checking: (title) => lines.push(`… ${title}`),
    passed: (detail) => lines.push(`✔ ${detail}`),
    retrying: (error: ExpectedError) => lines.push(`✖ ${error.message}${error.hint ? ` (hint: ${error.hint})` : ''}`),
  };
}
