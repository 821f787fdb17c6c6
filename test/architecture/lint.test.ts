import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Runs one of the project's own checks as `npm run <script>` would, and shows what it found when it fails. */
function check(script: string): void {
  const result = spawnSync('npm', ['run', '--silent', script], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(result.status, 0, `npm run ${script} found:\n${result.stdout}${result.stderr}`);
}

describe('the code', () => {
  it('passes the linter and is formatted (npm run lint; npm run format fixes the formatting)', () => check('lint'));

  it('exports nothing that nothing imports, and uses every dependency it lists (npm run unused)', () => check('unused'));
});
