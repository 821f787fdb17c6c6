import { mkdirSync, mkdtempSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after } from 'node:test';
import { loadConfig } from '../../src/config/load-config.ts';
import type { LoadConfigOptions, ResolvedConfig } from '../../src/config/types.ts';
import { ConfigError } from '../../src/errors.ts';

/** A throwaway project directory and home directory; the real home is never read. */
export interface TempProject {
  cwd: string;
  home: string;
  /** Writes a file relative to the project and returns its absolute path. */
  write(path: string, text: string): Promise<string>;
  writeHome(path: string, text: string): Promise<string>;
  load(options?: Partial<LoadConfigOptions>): Promise<ResolvedConfig>;
  /** Loads expecting a ConfigError and returns it. */
  loadError(options?: Partial<LoadConfigOptions>): Promise<ConfigError>;
  remove(): Promise<void>;
}

/** A project for the enclosing describe(), removed after it. */
export function useTempProject(): TempProject {
  const project = createTempProject();
  after(() => project.remove());
  return project;
}

export function createTempProject(): TempProject {
  const root = mkdtempSync(join(tmpdir(), 'otel-mlflow-config-'));
  const cwd = join(root, 'project');
  const home = join(root, 'home');
  mkdirSync(cwd);
  mkdirSync(home);
  const writeUnder = async (dir: string, path: string, text: string) => {
    const full = join(dir, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, text);
    return full;
  };
  const load = (options: Partial<LoadConfigOptions> = {}) =>
    loadConfig({ cwd, homeDir: home, env: {}, flags: {}, purpose: 'doctor', ...options });
  return {
    cwd,
    home,
    write: (path, text) => writeUnder(cwd, path, text),
    writeHome: (path, text) => writeUnder(home, path, text),
    load,
    async loadError(options) {
      try {
        await load(options);
      } catch (error) {
        if (error instanceof ConfigError) return error;
        throw error;
      }
      throw new Error('expected a ConfigError, but the config loaded');
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
}
