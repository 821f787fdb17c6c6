import { readFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';

/**
 * How a launcher's command line names what it runs: the options that take the next word as their
 * value (so it is not read as the script), those whose value is what runs (`python -m uvicorn`,
 * `java -jar app.jar`), those whose value is code (`node -e`: no script to name it after), and its
 * subcommands that come before the script (`deno run main.ts`).
 */
interface Launcher {
  valued?: readonly string[];
  naming?: readonly string[];
  inline?: readonly string[];
  subcommands?: readonly string[];
}

const NODE_VALUED = [
  '-r',
  '--require',
  '--import',
  '--loader',
  '--experimental-loader',
  '-C',
  '--conditions',
  '--env-file',
  '--env-file-if-exists',
  '--input-type',
  '--inspect-port',
  '--title',
];
const NODE: Launcher = { valued: NODE_VALUED, inline: ['-e', '--eval', '-p', '--print'] };
const PYTHON: Launcher = { valued: ['-X', '-W'], naming: ['-m'], inline: ['-c'] };

/** Interpreters: the program is named after the script they run. */
const SCRIPT_LAUNCHERS: Readonly<Record<string, Launcher>> = {
  node: NODE,
  nodejs: NODE,
  tsx: { ...NODE, valued: [...NODE_VALUED, '--tsconfig'], subcommands: ['watch'] },
  'ts-node': { valued: ['-r', '--require', '-P', '--project', '-O', '--compiler-options', '-C', '--compiler'], inline: ['-e', '-p'] },
  deno: { valued: ['-c', '--config', '--env-file', '--import-map', '--location'], subcommands: ['run', 'serve'] },
  python: PYTHON,
  python3: PYTHON,
  ruby: { valued: ['-r', '-I', '-C'], inline: ['-e'] },
  java: { valued: ['-cp', '-classpath', '--class-path', '-p', '--module-path'], naming: ['-jar', '-m', '--module'] },
};

/** Runners of another command (`npx tsx server.ts`, `uv run app.py`): the program is named after that command. */
const COMMAND_RUNNERS: Readonly<Record<string, { subcommands?: readonly string[]; valued?: readonly string[] }>> = {
  npx: { valued: ['-p', '--package', '-c', '--call'] },
  bunx: {},
  pnpx: {},
  env: {},
  uv: { subcommands: ['run'], valued: ['--with', '--python', '-p', '--project', '--directory', '--env-file'] },
  poetry: { subcommands: ['run'] },
  pipenv: { subcommands: ['run'] },
};

/**
 * Package managers running one of the package's scripts (`npm start`, `pnpm dev`): the program is
 * the package, named as its package.json names it. Their subcommands that run another command instead
 * are listed, and `bun` runs a file as readily as a script.
 */
const PACKAGE_RUNNERS: Readonly<Record<string, { exec: readonly string[] }>> = {
  npm: { exec: ['exec', 'x'] },
  pnpm: { exec: ['exec', 'dlx'] },
  yarn: { exec: ['exec', 'dlx'] },
  bun: { exec: ['x'] },
};

/** What a script can be named: a file (with a path or an extension), not a package's script. */
const looksLikeFile = (word: string) => word.includes('/') || /\.[cm]?[jt]sx?$/.test(word);

/**
 * The name a program's traces carry by default (`OTEL_SERVICE_NAME`): `node server.js` is `server`,
 * `./bin/api --port 3000` is `api`, `npx tsx src/app.ts` is `app`, and `npm start` is the package's
 * name. `packageName` reads the name of the package in the working directory.
 */
export function programName(command: readonly string[], packageName: () => string | undefined): string {
  const [file = 'program', ...args] = command;
  const launcher = basename(file).replace(/\.(exe|cmd)$/, '');
  const script = SCRIPT_LAUNCHERS[launcher];
  if (script) {
    const name = scriptOf(args, script);
    // `node .` runs the package's main.
    return name === '.' ? (packageName() ?? launcher) : (name ?? launcher);
  }
  const runner = COMMAND_RUNNERS[launcher];
  if (runner) {
    const rest = afterOptions(args, runner.valued ?? []);
    const inner = runner.subcommands?.includes(rest[0] ?? '') ? afterOptions(rest.slice(1), runner.valued ?? []) : rest;
    const command = launcher === 'env' ? dropAssignments(inner) : inner;
    return command.length > 0 ? programName(command, packageName) : launcher;
  }
  const manager = PACKAGE_RUNNERS[launcher];
  if (manager) {
    const rest = afterOptions(args, []);
    const [subcommand = '', ...more] = rest;
    if (manager.exec.includes(subcommand)) {
      const inner = afterOptions(more, []);
      return inner.length > 0 ? programName(inner, packageName) : launcher;
    }
    if (launcher === 'bun') {
      const target = subcommand === 'run' ? afterOptions(more, [])[0] : subcommand;
      if (target && looksLikeFile(target)) return nameOf(target);
    }
    return packageName() ?? launcher;
  }
  return nameOf(file);
}

/**
 * The name of the script (or module, or jar) an interpreter runs, past its options; none when it runs
 * code given inline. A module keeps its dots: `python -m http.server` is `http.server`.
 */
function scriptOf(args: readonly string[], launcher: Launcher): string | undefined {
  let subcommandSeen = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return args[i + 1] && nameOf(args[i + 1]!);
    if (launcher.inline?.includes(arg) || launcher.inline?.some((flag) => arg.startsWith(`${flag}=`))) return undefined;
    if (launcher.naming?.includes(arg)) return arg === '-jar' && args[i + 1] ? nameOf(args[i + 1]!) : args[i + 1];
    if (launcher.valued?.includes(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith('-')) continue;
    if (!subcommandSeen && launcher.subcommands?.includes(arg)) {
      subcommandSeen = true;
      continue;
    }
    return nameOf(arg);
  }
  return undefined;
}

/** The words after a runner's own options (and their values), from its first word that is not one. */
function afterOptions(args: readonly string[], valued: readonly string[]): readonly string[] {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return args.slice(i + 1);
    if (valued.includes(arg)) i++;
    else if (!arg.startsWith('-')) return args.slice(i);
  }
  return [];
}

/** `env FOO=1 node app.js` runs `node app.js`. */
function dropAssignments(args: readonly string[]): readonly string[] {
  const first = args.findIndex((arg) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(arg));
  return first === -1 ? [] : args.slice(first);
}

/** A file's name without its directory and extension: `dist/server.mjs` is `server`. */
function nameOf(path: string): string {
  const named = basename(path);
  return named.slice(0, named.length - extname(named).length) || named;
}

/**
 * The name in the package.json a package manager would run scripts of: the nearest one from `cwd`
 * up. Unnamed or unreadable, the directory it is in names the package.
 */
export function packageNameIn(cwd: string): string | undefined {
  for (let dir = cwd; ; dir = dirname(dir)) {
    const text = readText(join(dir, 'package.json'));
    if (text !== undefined) {
      const name = nameField(text);
      return name ?? (basename(dir) || undefined);
    }
    if (dirname(dir) === dir) return undefined;
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function nameField(text: string): string | undefined {
  try {
    const name = (JSON.parse(text) as { name?: unknown }).name;
    return typeof name === 'string' && name.trim() !== '' ? name.trim() : undefined;
  } catch {
    return undefined;
  }
}
