import type { ConfigFile } from './config-file.ts';
import type { Dotenv } from './dotenv.ts';
import { describeSource } from './mask.ts';
import {
  CONFIG_OPTIONS,
  envVarsFor,
  flagValue,
  type ConfigPurpose,
  type FlagValues,
  type OptionKey,
  type OptionSpec,
  type OptionValue,
} from './options.ts';
import type { Parse } from './parse-values.ts';
import type { Source } from './types.ts';

/** Every place a value can come from, highest priority first in `candidates()`. */
export interface Layers {
  flags: FlagValues;
  env: Readonly<Record<string, string | undefined>>;
  dotenv?: Dotenv;
  file?: ConfigFile;
  databricksCfg?: DatabricksProfileLayer;
  purpose: ConfigPurpose;
}

export interface DatabricksProfileLayer {
  /** As shown to people: `~/.databrickscfg` for the default location. */
  displayPath: string;
  profile: string;
  values: ReadonlyMap<string, string>;
}

export interface Resolution<T> {
  value: T;
  source: Source;
  /** Record options only: where each key came from. */
  keySources?: Record<string, Source>;
}

export type ResolvedOptions = { -readonly [K in OptionKey]?: Resolution<OptionValue<K>> };

interface SourcedProblem {
  message: string;
  source: Source;
}

export interface OptionResolution {
  values: ResolvedOptions;
  problems: SourcedProblem[];
  /** Options left unset although some source set them to the empty string, for "X is empty" messages. */
  empty: Partial<Record<OptionKey, Source>>;
}

interface Candidate {
  raw: unknown;
  source: Source;
  /** The variable, flag or key as the user wrote it. */
  label: string;
  parse: Parse<unknown>;
}

/**
 * Resolves the given options over the layers. An empty string (or blanks) counts as unset, as the OTel spec,
 * MLflow and the Databricks SDKs all treat it (but an empty flag is refused); an environment variable hides the .env line of the
 * same name even when empty, as load_dotenv(override=False) does.
 */
export function resolveOptions(keys: readonly OptionKey[], layers: Layers): OptionResolution {
  const result: OptionResolution = { values: {}, problems: [], empty: {} };
  for (const key of keys) {
    const spec: OptionSpec = CONFIG_OPTIONS[key];
    const found: Candidate[] = [];
    for (const candidate of candidates(key, spec, layers)) {
      // Blanks alone are empty too (`MLFLOW_TRACKING_URI=" "` is no file store named " ").
      const empty = typeof candidate.raw === 'string' && candidate.raw.trim() === '';
      // A flag given empty on purpose is a slip (an unset shell variable), not "use the default".
      if (empty && candidate.source.kind === 'flag') {
        result.problems.push({ message: `${candidate.label} is empty: give it a value, or leave it out`, source: candidate.source });
      } else if (empty) result.empty[key] ??= candidate.source;
      else found.push(candidate);
    }
    const resolution = spec.kind === 'record' ? mergeRecords(found, result.problems) : firstScalar(found, result.problems);
    const values = result.values as Record<string, Resolution<unknown>>;
    if (resolution) {
      delete result.empty[key];
      values[key] = resolution;
    } else if (spec.default) {
      values[key] = { value: spec.default(layers.purpose), source: { kind: 'default' } };
    }
  }
  return result;
}

function* candidates(key: OptionKey, spec: OptionSpec, layers: Layers): Generator<Candidate> {
  const given = flagValue(layers.flags, key);
  if (given) yield { raw: given.value, source: { kind: 'flag', name: given.flag }, label: given.flag, parse: spec.parse };
  for (const envVar of envVarsFor(spec, layers.purpose)) {
    const { name } = envVar;
    const parse = envVar.parse ?? spec.parse;
    const fromEnv = layers.env[name];
    if (fromEnv !== undefined) {
      yield { raw: fromEnv, source: { kind: 'env', name }, label: name, parse };
      continue;
    }
    const fromDotenv = layers.dotenv?.values.get(name);
    if (layers.dotenv && fromDotenv != null) {
      yield { raw: fromDotenv, source: { kind: 'dotenv', path: layers.dotenv.path, name }, label: name, parse };
    }
  }
  const file = layers.file;
  if (spec.file && file && Object.hasOwn(file.values, spec.file) && file.values[spec.file] != null) {
    const key = `${file.keyPrefix}${spec.file}`;
    yield { raw: file.values[spec.file], source: { kind: 'file', path: file.path, key }, label: key, parse: spec.parse };
  }
  const cfg = layers.databricksCfg;
  const cfgKey = spec.databricksCfg;
  const fromCfg = cfgKey === undefined ? undefined : cfg?.values.get(cfgKey);
  if (cfg && cfgKey !== undefined && fromCfg !== undefined) {
    const source: Source = { kind: 'databrickscfg', path: cfg.displayPath, profile: cfg.profile, key: cfgKey };
    yield { raw: fromCfg, source, label: cfgKey, parse: spec.parse };
  }
}

function firstScalar(found: Candidate[], problems: SourcedProblem[]): Resolution<unknown> | undefined {
  const candidate = found[0];
  if (!candidate) return undefined;
  const { raw, source, label } = candidate;
  if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
    problems.push({ message: `${label} must be a string, not ${describeType(raw)}`, source });
    return undefined;
  }
  const parsed = candidate.parse(String(raw));
  if (!parsed.ok) {
    problems.push({ message: `${label} ${parsed.problem}`, source });
    return undefined;
  }
  return { value: parsed.value, source };
}

/** Lowest priority first, so each key ends up with the value of the highest source that sets it. */
function mergeRecords(found: Candidate[], problems: SourcedProblem[]): Resolution<Record<string, string>> | undefined {
  const value: Record<string, string> = {};
  const keySources: Record<string, Source> = {};
  for (const { raw, source, label, parse } of [...found].reverse()) {
    const parsed = typeof raw === 'string' ? parse(raw) : recordFromObject(raw);
    if (!parsed.ok) {
      problems.push({ message: `${label} ${parsed.problem}`, source });
      continue;
    }
    for (const [k, v] of Object.entries(parsed.value as Record<string, string>)) {
      value[k] = v;
      keySources[k] = source;
    }
  }
  const sources = [...new Set(Object.values(keySources))];
  if (sources.length === 0) return undefined;
  const source: Source = sources.length === 1 ? sources[0]! : { kind: 'derived', from: sources.map(describeSource).join(' + ') };
  return { value, source, keySources };
}

function recordFromObject(raw: unknown): { ok: true; value: Record<string, string> } | { ok: false; problem: string } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, problem: `must be an object of string values or a key=value,... string, not ${describeType(raw)}` };
  }
  const value: Record<string, string> = {};
  const bad: string[] = [];
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') value[k] = String(v);
    else bad.push(k);
  }
  return bad.length
    ? { ok: false, problem: `must map keys to strings, numbers or booleans (not: ${bad.join(', ')})` }
    : { ok: true, value };
}

function describeType(raw: unknown): string {
  if (raw === null) return 'null';
  if (Array.isArray(raw)) return 'an array';
  return typeof raw === 'object' ? 'an object' : `a ${typeof raw}`;
}
