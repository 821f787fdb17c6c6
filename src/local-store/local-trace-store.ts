import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { ExitCode, ExpectedError } from '../errors.ts';
import { mlflowTraceId } from '../tracing/trace-id.ts';
import { withFileLock } from './file-lock.ts';
import type { LocalSpan, LocalTrace, LocalTraceStatus, LocalTraceSummary } from './local-trace.ts';
import { toLocalSpan } from './span-codec.ts';
import { summarizeTrace } from './summarize-trace.ts';
import { TEMP_SUFFIX, writeFileAtomic } from './write-file-atomic.ts';

export type { LocalSpan, LocalTrace, LocalTraceStatus, LocalTraceSummary } from './local-trace.ts';
export { summarizeTrace, summaryJson } from './summarize-trace.ts';

/** Prompts and answers may be private: only the owner may read the store. */
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;
/** Younger temporary files and locks may belong to a write in progress. */
const LEFTOVER_AGE_MS = 60_000;

/**
 * `<start time, UTC, ms>-<otel trace id>.json`: names sort by start time, so `list` reads only the
 * files it shows, and `--since` / `prune` decide from the name alone.
 */
const FILE_NAME = /^(\d{8}T\d{6}\.\d{3}Z)-([0-9a-f]{32})\.json$/;

interface TraceFile {
  name: string;
  hex: string;
  startMs: number;
}

export interface LocalTraceFilter {
  since?: Date;
  status?: LocalTraceStatus;
  limit?: number;
}

/** Traces kept on disk when no MLflow is configured, one JSON file per trace. */
export class LocalTraceStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Stores the spans of one trace; spans of a trace already stored are merged in (by span id). */
  async save(spans: ReadableSpan[]): Promise<string> {
    const incoming = spans.map(toLocalSpan);
    const hex = incoming[0]?.traceId;
    if (hex === undefined) throw new Error('LocalTraceStore.save() needs at least one span');
    if (incoming.some((span) => span.traceId !== hex)) throw new Error('LocalTraceStore.save() takes the spans of one trace');
    await mkdir(this.dir, { recursive: true, mode: DIR_MODE });
    return withFileLock(join(this.dir, `.${hex}.lock`), async () => {
      // The common case, a new trace, needs only the names, not their parsing and sorting.
      const existing = (await this.#names()).find((name) => name.endsWith(`-${hex}.json`) && FILE_NAME.test(name));
      const previous = existing ? await this.#read(existing) : undefined;
      const trace: LocalTrace = {
        traceId: mlflowTraceId(hex),
        savedAt: new Date().toISOString(),
        spans: mergeSpans(previous?.spans ?? [], incoming),
      };
      const name = fileName(trace.spans[0]!.startTimeUnixNano, hex);
      await writeFileAtomic(join(this.dir, name), JSON.stringify(trace), FILE_MODE);
      // An earlier late span moves the trace's start, and with it the file name.
      if (existing && existing !== name) await rm(join(this.dir, existing), { force: true });
      return trace.traceId;
    });
  }

  /** Newest first. Reads only the files it returns (and, with a status filter, those it skips). */
  async list(filter: LocalTraceFilter = {}): Promise<LocalTraceSummary[]> {
    const limit = filter.limit ?? Number.POSITIVE_INFINITY;
    const summaries: LocalTraceSummary[] = [];
    for (const file of await this.#files()) {
      if (summaries.length >= limit) break;
      if (filter.since && file.startMs < filter.since.getTime()) break;
      const trace = await this.#read(file.name).catch(() => undefined);
      if (!trace) continue;
      const summary = summarizeTrace(trace);
      if (filter.status === undefined || summary.status === filter.status) summaries.push(summary);
    }
    return summaries;
  }

  /** By `tr-…`, the 32 hex digits, or a unique prefix of either. */
  async get(id: string): Promise<LocalTrace | undefined> {
    const wanted = hexPrefixOf(id);
    if (wanted === undefined) return undefined;
    const matches = (await this.#files()).filter((file) => file.hex.startsWith(wanted));
    if (matches.length > 1) {
      const shown = matches.slice(0, 3).map((file) => mlflowTraceId(file.hex));
      throw new ExpectedError(
        `'${id}' matches ${matches.length} stored traces (${shown.join(', ')}${matches.length > shown.length ? ', …' : ''})`,
        { exitCode: ExitCode.usage, hint: 'give more characters of the trace id' },
      );
    }
    return matches[0] && this.#read(matches[0].name);
  }

  /** Deletes every trace that started at or before `olderThan`; returns how many. */
  async prune(olderThan: Date): Promise<number> {
    const cutoff = olderThan.getTime();
    let deleted = 0;
    for (const file of await this.#files()) {
      if (file.startMs > cutoff) continue;
      await rm(join(this.dir, file.name), { force: true });
      deleted++;
    }
    await this.#removeLeftovers(cutoff);
    return deleted;
  }

  /** Trace files, newest first; none when the store was never written. */
  async #files(): Promise<TraceFile[]> {
    const files: TraceFile[] = [];
    for (const name of await this.#names()) {
      const match = FILE_NAME.exec(name);
      if (match) files.push({ name, hex: match[2]!, startMs: Date.parse(fromStamp(match[1]!)) });
    }
    return files.sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
  }

  async #names(): Promise<string[]> {
    try {
      return await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  async #read(name: string): Promise<LocalTrace> {
    const path = join(this.dir, name);
    const trace = JSON.parse(await readFile(path, 'utf8')) as LocalTrace;
    if (typeof trace?.traceId !== 'string' || !Array.isArray(trace.spans) || trace.spans.length === 0) {
      throw new ExpectedError(`${path} is not a stored trace`, {
        exitCode: ExitCode.internal,
        hint: 'it was changed by hand or by another program; delete it',
      });
    }
    return trace;
  }

  /** Temporary files of writes a crash interrupted, and locks a dead process left behind. */
  async #removeLeftovers(cutoff: number): Promise<void> {
    for (const name of await this.#names()) {
      if (!name.startsWith('.') || !(name.endsWith(TEMP_SUFFIX) || name.endsWith('.lock'))) continue;
      const path = join(this.dir, name);
      const modified = await stat(path).then((s) => s.mtimeMs, () => undefined);
      if (modified !== undefined && modified <= cutoff && Date.now() - modified > LEFTOVER_AGE_MS) await rm(path, { force: true });
    }
  }
}

/** Spans by id, the newer copy winning, in start-time order with a parent before its children on ties. */
function mergeSpans(previous: LocalSpan[], incoming: LocalSpan[]): LocalSpan[] {
  const byId = new Map<string, LocalSpan>();
  for (const span of [...previous, ...incoming]) byId.set(span.spanId, span);
  const depth = (span: LocalSpan) => (span.parentSpanId === null ? 0 : 1);
  return [...byId.values()].sort((a, b) => {
    const startA = BigInt(a.startTimeUnixNano);
    const startB = BigInt(b.startTimeUnixNano);
    return startA === startB ? depth(a) - depth(b) : startA < startB ? -1 : 1;
  });
}

function fileName(startTimeUnixNano: string, hex: string): string {
  const iso = new Date(Number(BigInt(startTimeUnixNano) / 1_000_000n)).toISOString();
  return `${iso.replace(/[-:]/g, '')}-${hex}.json`;
}

/** `20250131T123456.789Z` → `2025-01-31T12:34:56.789Z`. */
function fromStamp(stamp: string): string {
  return `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13)}`;
}

/** The hex digits an id starts with: `tr-` + hex, bare hex, or a prefix of `tr-`; undefined when it cannot be an id. */
function hexPrefixOf(id: string): string | undefined {
  const lower = id.trim().toLowerCase();
  const bare = lower.startsWith('tr-') ? lower.slice(3) : 'tr-'.startsWith(lower) ? '' : lower;
  return /^[0-9a-f]{0,32}$/.test(bare) ? bare : undefined;
}
