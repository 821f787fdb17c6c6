import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseDotenv } from '../../../src/config/dotenv.ts';
import { ExpectedError } from '../../../src/errors.ts';
import { formatDotenvValue, mergeDotenv, writeEnvFile } from '../../../src/commands/init/env-file.ts';

const read = (text: string) => Object.fromEntries(parseDotenv(text, {}).values);

/** Values a token, password or key can hold that need quoting, escaping, or neither. */
const AWKWARD = {
  PLAIN: 'dapi0123456789abcdef',
  SPACES: 'two words  and more',
  EDGE_SPACES: '  padded  ',
  HASH: 'abc #not-a-comment',
  HASH_START: '#starts-with-hash',
  SINGLE: "it's",
  DOUBLE: 'say "hi"',
  BOTH: `it's "quoted"`,
  BACKSLASH: String.raw`C:\path\to`,
  TRAILING_BACKSLASH: String.raw`ends-with\ `.trim(),
  BACKSLASH_QUOTE: String.raw`a\'b\"c`,
  NEWLINE: 'line one\nline two',
  DOLLAR: 'pa$$word$HOME',
  EQUALS: 'k=v==',
  EMPTY: '',
  UNICODE: 'pässwörd-ключ',
};

describe('.env merge', () => {
  it('replaces a key where it stands and keeps every other line, comments and blanks included', () => {
    const text =
      '# Databricks\nDATABRICKS_HOST=https://x.cloud.databricks.com\nDATABRICKS_TOKEN=old-token # expires soon\n\n# OpenAI\nexport OPENAI_API_KEY=sk-old\n';
    assert.equal(
      mergeDotenv(text, { DATABRICKS_TOKEN: 'new-token', OPENAI_API_KEY: 'sk-new' }),
      '# Databricks\nDATABRICKS_HOST=https://x.cloud.databricks.com\nDATABRICKS_TOKEN=new-token\n\n# OpenAI\nexport OPENAI_API_KEY=sk-new\n',
    );
  });

  it('appends keys that are not there yet, after a last line without a newline', () => {
    assert.equal(mergeDotenv('A=1', { B: '2', C: '3' }), 'A=1\nB=2\nC=3\n');
    assert.equal(mergeDotenv('', { B: '2' }), 'B=2\n');
  });

  it('drops later repeats of a replaced key, which would otherwise win', () => {
    const merged = mergeDotenv('A=1\nB=x\nA=2\n', { A: 'new' });
    assert.equal(merged, 'A=new\nB=x\n');
    assert.equal(read(merged).A, 'new');
  });

  it('replaces a quoted value that runs over several lines as a whole', () => {
    const merged = mergeDotenv('KEY="first\nsecond"\nOTHER=kept\n', { KEY: 'one line' });
    assert.deepEqual(read(merged), { KEY: 'one line', OTHER: 'kept' });
  });

  it('leaves keys that merely share a prefix alone', () => {
    assert.deepEqual(read(mergeDotenv('TOKEN_OLD=a\nTOKEN=b\n', { TOKEN: 'c' })), { TOKEN_OLD: 'a', TOKEN: 'c' });
  });

  it('writes every awkward value so that it reads back unchanged', () => {
    const text = mergeDotenv('# existing\nKEEP=me\n', AWKWARD);
    assert.deepEqual(read(text), { KEEP: 'me', ...AWKWARD });
    assert.deepEqual(parseDotenv(text, {}).badLines, []);
  });

  it('leaves simple values unquoted', () => {
    assert.equal(formatDotenvValue('K', 'dapi0123'), 'dapi0123');
    assert.equal(formatDotenvValue('K', 'two words'), 'two words');
    assert.match(formatDotenvValue('K', 'abc #x'), /^'.*'$/);
  });

  it('refuses a value with ${, which every .env reader would expand, without quoting the value', () => {
    assert.throws(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: ${VAR} here is .env syntax, which the .env reader expands, not a template placeholder
      () => mergeDotenv('', { OPENAI_API_KEY: 'sk-${SECRET_PART}' }),
      (error: unknown) => error instanceof ExpectedError && /OPENAI_API_KEY/.test(error.message) && !error.message.includes('SECRET_PART'),
    );
  });
});

const python = spawnSync('python3', ['-c', 'import dotenv'], { encoding: 'utf8' });
const noPythonDotenv =
  python.status === 0 ? false : 'python3 with python-dotenv is not installed here, so only our own parser reads the file back';

describe('.env written by init, read by python-dotenv', () => {
  it('reads every awkward value back exactly as our parser does', { skip: noPythonDotenv }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'otel-mlflow-dotenv-'));
    try {
      const path = join(dir, '.env');
      await writeFile(path, mergeDotenv('# existing\nKEEP=me\n', AWKWARD));
      const script = 'import json, sys\nfrom dotenv import dotenv_values\nprint(json.dumps(dotenv_values(sys.argv[1])))';
      const run = spawnSync('python3', ['-c', script, path], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(JSON.parse(run.stdout), read(await readFile(path, 'utf8')));
      assert.deepEqual(JSON.parse(run.stdout), { KEEP: 'me', ...AWKWARD });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('writing the env file', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'otel-mlflow-envfile-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('creates it readable by its owner only', async () => {
    const path = join(dir, 'new.env');
    assert.deepEqual(await writeEnvFile(path, { DATABRICKS_TOKEN: 'dapi-1' }), { created: true });
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal(await readFile(path, 'utf8'), 'DATABRICKS_TOKEN=dapi-1\n');
  });

  it('narrows an existing file to owner-only and keeps what was in it', async () => {
    const path = join(dir, 'existing.env');
    await writeFile(path, '# mine\nOTHER=1\n');
    await chmod(path, 0o644);
    assert.deepEqual(await writeEnvFile(path, { OPENAI_API_KEY: 'sk-x' }), { created: false });
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal(await readFile(path, 'utf8'), '# mine\nOTHER=1\nOPENAI_API_KEY=sk-x\n');
  });
});
