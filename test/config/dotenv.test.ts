// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} here is .env syntax, which the .env reader expands, not a template placeholder
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDotenv } from '../../src/config/dotenv.ts';

function values(text: string, env: Record<string, string> = {}) {
  return Object.fromEntries(parseDotenv(text, env).values);
}

describe('.env parsing (python-dotenv grammar)', () => {
  it('skips comments and blank lines, and strips an export prefix', () => {
    assert.deepEqual(values('# a comment\n\nexport A=1\n  B = 2  \n'), { A: '1', B: '2' });
  });

  it('drops an inline comment after whitespace but keeps # inside a value', () => {
    assert.deepEqual(values('A=value # note\nB=abc#def\nC=  # only a comment\nD=#starts-with-hash'), {
      A: 'value',
      B: 'abc#def',
      C: '',
      D: '#starts-with-hash',
    });
  });

  it("keeps single-quoted text literally except for \\\\ and \\'", () => {
    assert.deepEqual(values(String.raw`A='a\nb \'q\' # not a comment'`), { A: String.raw`a\nb 'q' # not a comment` });
  });

  it('decodes escapes in double quotes and allows values over several lines', () => {
    assert.deepEqual(values('A="line1\\nline2\\t\\"quoted\\""\nB="multi\nline"'), { A: 'line1\nline2\t"quoted"', B: 'multi\nline' });
  });

  it('takes a backslash in quotes as escaping whatever follows it, as python-dotenv 1.2.3 and on do', () => {
    // A Windows path ends at its closing quote, and the next line stays its own.
    const parsed = parseDotenv('A="C:\\\\"\nB=\'C:\\\\\'\nC="x"\n', {});
    assert.deepEqual(Object.fromEntries(parsed.values), { A: 'C:\\', B: 'C:\\', C: 'x' });
    assert.deepEqual(parsed.badLines, []);
    // An odd backslash before the last quote escapes it: the value never closes, and only its line is lost.
    const unclosed = parseDotenv('A="a\\"\nB=1\n', {});
    assert.deepEqual(Object.fromEntries(unclosed.values), { B: '1' });
    assert.deepEqual(unclosed.badLines, [1]);
  });

  it('keeps a bare KEY line as a key without a value', () => {
    const parsed = parseDotenv('LONELY\nA=1', {});
    assert.equal(parsed.values.get('LONELY'), null);
    assert.equal(parsed.values.get('A'), '1');
  });

  it('takes the last of duplicate keys', () => {
    assert.deepEqual(values('A=1\nA=2'), { A: '2' });
  });

  it('reports unparseable lines by number and goes on', () => {
    const parsed = parseDotenv("A=1\nB=\"unterminated\nC=3\nD='x' trailing", {});
    assert.deepEqual(Object.fromEntries(parsed.values), { A: '1', C: '3' });
    assert.deepEqual(parsed.badLines, [2, 4]);
  });
});

describe('.env interpolation', () => {
  it('resolves ${VAR} from earlier keys of the file', () => {
    assert.deepEqual(values('HOST=https://x\nURI=${HOST}/api'), { HOST: 'https://x', URI: 'https://x/api' });
  });

  it('prefers the process environment over earlier keys of the file', () => {
    assert.deepEqual(values('HOST=https://file\nURI=${HOST}', { HOST: 'https://env' }), { HOST: 'https://file', URI: 'https://env' });
  });

  it('uses ${VAR:-default} only when VAR is unset, and an empty string for an unknown ${VAR}', () => {
    assert.deepEqual(values('A=${MISSING:-fallback}\nB=${SET:-fallback}\nC=[${MISSING}]', { SET: 'set' }), {
      A: 'fallback',
      B: 'set',
      C: '[]',
    });
  });

  it('does not see keys defined later in the file', () => {
    assert.deepEqual(values('URI=${HOST}\nHOST=https://x'), { URI: '', HOST: 'https://x' });
  });

  it('interpolates inside double and single quotes alike, as python-dotenv does', () => {
    assert.deepEqual(values('H=h\nA="${H}"\nB=\'${H}\''), { H: 'h', A: 'h', B: 'h' });
  });
});
