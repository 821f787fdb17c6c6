import { execFile } from 'node:child_process';
import { basename, dirname } from 'node:path';

const GIT_TIMEOUT_MS = 5_000;

export type GitIgnoreStatus = 'ignored' | 'not-ignored' | 'not-in-git';

/**
 * Whether git would leave `file` out of commits. Outside a work tree, or without git, there is
 * nothing to commit it to.
 */
export async function gitIgnoreStatus(file: string, env: Readonly<Record<string, string | undefined>>): Promise<GitIgnoreStatus> {
  const cwd = dirname(file);
  const inside = await git(['rev-parse', '--is-inside-work-tree'], cwd, env);
  if (inside.code !== 0 || inside.stdout.trim() !== 'true') return 'not-in-git';
  // check-ignore: 0 ignored, 1 not ignored, anything else an error (treated as "cannot tell").
  const check = await git(['check-ignore', '-q', '--', basename(file)], cwd, env);
  if (check.code === 0) return 'ignored';
  return check.code === 1 ? 'not-ignored' : 'not-in-git';
}

function git(args: string[], cwd: string, env: Readonly<Record<string, string | undefined>>): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, env: { ...env }, timeout: GIT_TIMEOUT_MS }, (error, stdout) => {
      // No git at all (ENOENT) reads like "not a repository".
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout });
    });
  });
}
