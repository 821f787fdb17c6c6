import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalSpan } from '../../spans/local-span.ts';

/** The previous store's files: `<start time>-<otel trace id>.json`, one trace each. */
const LEGACY_FILE = /^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{32}\.json$/;
/** Its temporary files and lock files, left by interrupted writes. */
const LEGACY_LEFTOVER = /^\..*(\.tmp|\.lock)$/;

/**
 * Moves traces kept by earlier versions (one JSON file per trace) into the store, so upgrading loses
 * none: each file is deleted only after `save` has committed it. Unreadable files are left in place.
 */
export function importLegacyTraceFiles(dir: string, save: (spans: LocalSpan[]) => void): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let imported = 0;
  for (const name of names) {
    const path = join(dir, name);
    if (LEGACY_LEFTOVER.test(name)) {
      rmSync(path, { force: true });
      continue;
    }
    if (!LEGACY_FILE.test(name)) continue;
    let spans: LocalSpan[];
    try {
      spans = (JSON.parse(readFileSync(path, 'utf8')) as { spans: LocalSpan[] }).spans;
      if (!Array.isArray(spans) || spans.length === 0) continue;
    } catch {
      continue;
    }
    save(spans);
    rmSync(path, { force: true });
    imported++;
  }
  return imported;
}
