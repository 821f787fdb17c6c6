import { createRequire } from 'node:module';
import type { EncodedTrace } from '../../destination/encoded-trace.ts';
import type { LocalSpan } from '../../spans/local-span.ts';

const require = createRequire(import.meta.url);
// The same tree as this module: TypeScript sources under test, dist/ once built.
const ENCODER = `../../destination/encode-trace.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`;

/**
 * Encodes spans the store holds or is given as LocalSpans (a merge, a store of an older version,
 * trace files of the previous format), loading the encoder (and with it the OpenTelemetry SDK's
 * serializer) only then, synchronously: commands that only read the store (`traces list`, `suite`)
 * never load it, and processes that make spans have it loaded already.
 */
export function encodeLocalTrace(spans: readonly LocalSpan[]): EncodedTrace {
  return (require(ENCODER) as typeof import('../../destination/encode-trace.ts')).encodeLocalTrace(spans);
}
