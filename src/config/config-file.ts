import { basename, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cosmiconfig, type Loader } from 'cosmiconfig';
import type { ConfigProblem } from '../errors.ts';

const MODULE_NAME = 'otel-mlflow';

const SEARCH_PLACES = [
  'package.json',
  `.${MODULE_NAME}rc`,
  `.${MODULE_NAME}rc.json`,
  `.${MODULE_NAME}rc.yaml`,
  `.${MODULE_NAME}rc.yml`,
  `${MODULE_NAME}.config.js`,
  `${MODULE_NAME}.config.mjs`,
  `${MODULE_NAME}.config.ts`,
];

const MODULE_EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'];

export interface ConfigFile {
  path: string;
  /** How a key is named in messages: package.json keeps its settings under "otel-mlflow". */
  keyPrefix: string;
  values: Readonly<Record<string, unknown>>;
}

export type ConfigFileResult = { file?: ConfigFile; problems: ConfigProblem[] };

/**
 * Native import() for JavaScript and TypeScript config files: Node strips types itself, and the
 * typescript package is not there at run time.
 */
const importDefault: Loader = async (filepath) => {
  const module = (await import(pathToFileURL(filepath).href)) as { default?: unknown };
  return module.default;
};

/** The file named by --config, or the first of SEARCH_PLACES in `cwd`. */
export async function readConfigFile(cwd: string, explicit?: { path: string; source: string }): Promise<ConfigFileResult> {
  const explorer = cosmiconfig(MODULE_NAME, {
    searchPlaces: SEARCH_PLACES,
    searchStrategy: 'none',
    cache: false,
    loaders: { '.js': importDefault, '.mjs': importDefault, '.ts': importDefault },
  });
  const path = explicit ? resolve(cwd, explicit.path) : undefined;
  let result: Awaited<ReturnType<typeof explorer.search>>;
  try {
    result = path ? await explorer.load(path) : await explorer.search(cwd);
  } catch (error) {
    const failedPath = path ?? (error as { filepath?: string }).filepath ?? cwd;
    if (path && (error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { problems: [{ message: `config file ${path} does not exist`, ...(explicit && { source: explicit.source }) }] };
    }
    return { problems: [{ message: `config file ${failedPath} ${loadFailure(error, failedPath)}` }] };
  }
  if (!result || result.isEmpty) return { problems: [] };
  const keyPrefix = basename(result.filepath) === 'package.json' ? `${MODULE_NAME}.` : '';
  const values: unknown = result.config;
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    const what = keyPrefix ? `its "${MODULE_NAME}" key` : 'it';
    return {
      problems: [
        {
          message: `config file ${result.filepath} must hold an object of settings, but ${what} holds ${Array.isArray(values) ? 'an array' : typeof values}`,
        },
      ],
    };
  }
  return { file: { path: result.filepath, keyPrefix, values: values as Record<string, unknown> }, problems: [] };
}

/**
 * JSON and YAML parser messages quote the offending text, and a config file may hold a secret by
 * mistake: keep only where the error is. A module's own error is the user's code speaking: keep it.
 */
function loadFailure(error: unknown, path: string): string {
  const err = error instanceof Error ? error : new Error(String(error));
  if (MODULE_EXTENSIONS.includes(extname(path))) {
    return `could not be loaded: ${err.name}: ${err.message.split('\n')[0]}`;
  }
  const mark = (err as { mark?: { line?: number; column?: number } }).mark;
  const position =
    mark?.line !== undefined
      ? `line ${mark.line + 1} column ${(mark.column ?? 0) + 1}`
      : (/line \d+ column \d+/.exec(err.message) ?? /position \d+/.exec(err.message))?.[0];
  const format = extname(path) === '.json' ? 'JSON' : 'YAML';
  return `is not valid ${format}${position ? ` (${position})` : ''}`;
}
