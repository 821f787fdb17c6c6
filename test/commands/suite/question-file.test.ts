import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ExitCode, ExpectedError } from '../../../src/errors.ts';
import { loadQuestionFile, parseQuestionFile } from '../../../src/commands/suite/question-file.ts';

function refusal(run: () => unknown, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ExpectedError);
    assert.equal(error.exitCode, ExitCode.usage);
    assert.match(error.message, message);
    assert.match(error.hint ?? '', /one question per line/);
    return true;
  });
}

describe('question files', () => {
  it('reads a JSON array of strings, and of objects with question or query and an id', () => {
    assert.deepEqual(parseQuestionFile('["What is MLflow?", " What is OTLP? "]', 'q.json'), [
      { question: 'What is MLflow?' },
      { question: 'What is OTLP?' },
    ]);
    assert.deepEqual(parseQuestionFile('[{"question": "A?", "id": "a"}, {"query": "B?", "id": 7}, {"query": "C?"}]', 'q.json'), [
      { question: 'A?', id: 'a' },
      { question: 'B?', id: '7' },
      { question: 'C?' },
    ]);
  });

  it('reads YAML lists of the same shapes', () => {
    const yaml = '# my questions\n- What is MLflow?\n- question: What is a span?\n  id: span\n- query: What is OTLP?\n';
    assert.deepEqual(parseQuestionFile(yaml, 'questions.yml'), [
      { question: 'What is MLflow?' },
      { question: 'What is a span?', id: 'span' },
      { question: 'What is OTLP?' },
    ]);
    assert.deepEqual(parseQuestionFile('- "a: b?"', 'q.yaml'), [{ question: 'a: b?' }]);
  });

  it('reads any other file one question per line, skipping blank lines and # comments', () => {
    const text = '# warm-up\nWhat is MLflow?\n\n   \n  What is [OTLP]?  \r\n# done\n';
    assert.deepEqual(parseQuestionFile(text, 'questions.txt'), [{ question: 'What is MLflow?' }, { question: 'What is [OTLP]?' }]);
  });

  it('names the file and the line of a JSON syntax error', () => {
    refusal(() => parseQuestionFile('[\n  "one",\n  "two"\n  "three"\n]', 'q.json'), /^q\.json:4: is not valid JSON/);
    // JSON, not YAML: unquoted words are refused even though YAML would take them.
    refusal(() => parseQuestionFile('[\n  what is this\n]', 'q.json'), /^q\.json:2: is not valid JSON/);
  });

  it('names the file and the line of an item that is not a question', () => {
    refusal(() => parseQuestionFile('[\n  "fine",\n  {"answer": "no question"}\n]', 'q.json'), /^q\.json:3: item 2 is not a question/);
    refusal(() => parseQuestionFile('- fine\n- 42\n- ""\n', 'q.yaml'), /^q\.yaml:2: item 2 is not a question/);
    refusal(() => parseQuestionFile('- ok\n- [nested]\n', 'q.yaml'), /^q\.yaml:2: item 2/);
  });

  it('refuses an id two questions share, naming both lines (the id names one question in results and comparisons)', () => {
    refusal(
      () =>
        parseQuestionFile(
          '[\n  {"id": "a", "question": "A?"},\n  {"id": "b", "question": "B?"},\n  {"id": "a", "question": "C?"}\n]',
          'q.json',
        ),
      /^q\.json:4: id "a" is used twice \(first on line 2\): each question needs its own$/,
    );
    refusal(() => parseQuestionFile('- id: 7\n  question: A?\n- id: "7"\n  question: B?\n', 'q.yaml'), /^q\.yaml:3: id "7" is used twice/);
    assert.equal(parseQuestionFile('["Same?", "Same?"]', 'q.json').length, 2, 'a question may be asked twice; only ids must differ');
  });

  it('refuses a file that is not a list, or holds no questions', () => {
    refusal(() => parseQuestionFile('{"questions": []}', 'q.json'), /^q\.json:1: must hold a list of questions/);
    refusal(() => parseQuestionFile('[]', 'q.json'), /^q\.json: holds no questions/);
    refusal(() => parseQuestionFile('# nothing yet\n\n', 'q.txt'), /^q\.txt: holds no questions/);
    refusal(() => parseQuestionFile('- [a\n- b', 'q.yaml'), /^q\.yaml:\d+: is not valid YAML/);
  });

  it('reads expectations under `expect`, snake_case in the file, camelCase in the question', () => {
    const yaml = [
      '- id: sessions',
      '  question: How do I group traces into a session?',
      '  expect:',
      '    mentions: [mlflow.trace.session, "metadata | tags"]',
      '    cites: [mlflow-sessions-users]',
      '    tools: [search_corpus]',
      '    max_latency_ms: 30000',
      '    max_tokens: 2000',
      '- question: What is OTLP?',
    ].join('\n');
    const expected = {
      mentions: ['mlflow.trace.session', 'metadata | tags'],
      cites: ['mlflow-sessions-users'],
      tools: ['search_corpus'],
      maxLatencyMs: 30000,
      maxTokens: 2000,
    };
    assert.deepEqual(parseQuestionFile(yaml, 'q.yaml'), [
      { question: 'How do I group traces into a session?', id: 'sessions', expect: expected },
      { question: 'What is OTLP?' },
    ]);
    const json = JSON.stringify([
      {
        question: 'How do I group traces into a session?',
        id: 'sessions',
        expect: { ...expected, maxLatencyMs: undefined, maxTokens: undefined, max_latency_ms: 30000, max_tokens: 2000 },
      },
    ]);
    assert.deepEqual(parseQuestionFile(json, 'q.json'), [
      { question: 'How do I group traces into a session?', id: 'sessions', expect: expected },
    ]);
  });

  it('refuses a malformed expectation with the line of the value, the question, and the format', () => {
    const file = (expect: string) => `- fine\n- id: sessions\n  question: How do sessions work?\n  expect:\n${expect}`;
    const refused = (expect: string, message: RegExp) =>
      assert.throws(
        () => parseQuestionFile(file(expect), 'questions.yaml'),
        (error: unknown) => {
          assert.ok(error instanceof ExpectedError);
          assert.equal(error.exitCode, ExitCode.usage);
          assert.match(error.message, message);
          assert.match(error.hint ?? '', /`expect` holds any of: mentions, cites, tools .* max_latency_ms, max_tokens/);
          return true;
        },
      );
    refused('    max_tokens: 0\n', /^questions\.yaml:5: question "sessions": expect\.max_tokens must be a positive whole number$/);
    refused(
      '    max_latency_ms: 1.5\n',
      /^questions\.yaml:5: question "sessions": expect\.max_latency_ms must be a positive whole number$/,
    );
    refused('    max_tokens: "2000"\n', /^questions\.yaml:5: .*expect\.max_tokens must be a positive whole number/);
    refused('    mentions: OTLP\n', /^questions\.yaml:5: question "sessions": expect\.mentions must be a list of strings$/);
    refused(
      '    cites:\n      - ok\n      - ""\n',
      /^questions\.yaml:7: question "sessions": expect\.cites item 2 must be a non-empty string$/,
    );
    refused('    mentions: [3.10]\n', /^questions\.yaml:5: .*expect\.mentions item 1 must be a string \(quote numbers/);
    refused('    tools: [{name: x}]\n', /^questions\.yaml:5: .*expect\.tools item 1 must be a non-empty string/);
    refused(
      '    max_tokns: 100\n',
      /^questions\.yaml:5: question "sessions": expect\.max_tokns is not an expectation \(known: mentions, cites, tools, max_latency_ms, max_tokens\)$/,
    );
    refused('    - OTLP\n', /^questions\.yaml:5: question "sessions": expect must be a mapping/);
    refused('', /^questions\.yaml:\d: question "sessions": expect must be a mapping/);
  });

  it('refuses an unknown question field, so a misspelt `expect` does not pass the question unchecked', () => {
    assert.throws(
      () => parseQuestionFile('[\n  {"question": "What is OTLP and why does it matter so much to us?", "expects": {}}\n]', 'q.json'),
      /: q\.json:2: question "What is OTLP and why does it matter so…": expects is not a question field \(known: question, query, id, expect\)$/,
    );
  });

  it('says which file it cannot read, by the name it was given', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'otel-mlflow-questions-'));
    try {
      await assert.rejects(loadQuestionFile(join(dir, 'absent.txt'), 'absent.txt'), /cannot read absent\.txt: no such file/);
      await writeFile(join(dir, 'ok.txt'), 'one?\ntwo?\n');
      assert.equal((await loadQuestionFile(join(dir, 'ok.txt'))).length, 2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
