import { readOptionalFile } from './read-optional-file.ts';

export interface DatabricksCfg {
  path: string;
  /** Profiles in file order; keys lower-cased as Python's configparser does. */
  profiles: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** 1-based lines configparser would refuse; reported, never quoted (they may hold tokens). */
  badLines: number[];
}

/** Reads an INI profile file; undefined when it does not exist. */
export async function readDatabricksCfg(path: string): Promise<DatabricksCfg | undefined> {
  const text = await readOptionalFile(path);
  if (text === undefined) return undefined;
  return { path, ...parseDatabricksCfg(text) };
}

/**
 * The subset of configparser the Databricks SDKs rely on: `[section]`, `key = value` or `key: value`,
 * full-line `#`/`;` comments, indented continuation lines. Unlike configparser's mapping access, a
 * profile does not inherit DEFAULT's keys (the SDKs read sections on their own).
 */
export function parseDatabricksCfg(text: string): Pick<DatabricksCfg, 'profiles' | 'badLines'> {
  const profiles = new Map<string, Map<string, string>>();
  const badLines: number[] = [];
  let section: Map<string, string> | undefined;
  let lastKey: string | undefined;
  text
    .replace(/^\ufeff/, '')
    .split(/\r\n|\n|\r/)
    .forEach((line, index) => {
      const trimmed = line.trim();
      if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) return;
      if (/^\s/.test(line) && section && lastKey !== undefined) {
        section.set(lastKey, `${section.get(lastKey)}\n${trimmed}`);
        return;
      }
      const header = /^\[(.+)\]\s*$/.exec(line);
      if (header) {
        const name = header[1]!;
        if (profiles.has(name)) {
          badLines.push(index + 1);
          section = undefined;
        } else {
          section = new Map();
          profiles.set(name, section);
        }
        lastKey = undefined;
        return;
      }
      const pair = /^([^=:]*?)\s*[=:]\s*(.*)$/.exec(trimmed);
      if (!section || !pair || pair[1] === '') {
        badLines.push(index + 1);
        lastKey = undefined;
        return;
      }
      lastKey = pair[1]!.toLowerCase();
      section.set(lastKey, pair[2]!);
    });
  return { profiles, badLines };
}
