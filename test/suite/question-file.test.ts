import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ExitCode, ExpectedError } from '../../src/errors.ts';
import { loadQuestionFile, parseQuestionFile } from '../../src/suite/question-file.ts';

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

  it('refuses a file that is not a list, or holds no questions', () => {
    refusal(() => parseQuestionFile('{"questions": []}', 'q.json'), /^q\.json:1: must hold a list of questions/);
    refusal(() => parseQuestionFile('[]', 'q.json'), /^q\.json: holds no questions/);
    refusal(() => parseQuestionFile('# nothing yet\n\n', 'q.txt'), /^q\.txt: holds no questions/);
    refusal(() => parseQuestionFile('- [a\n- b', 'q.yaml'), /^q\.yaml:\d+: is not valid YAML/);
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
