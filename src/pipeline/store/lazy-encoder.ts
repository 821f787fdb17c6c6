import { createRequire } from 'node:module';
import type { EncodedTrace } from '../../destination/encoded-trace.ts';
import type { LocalSpan } from '../../spans/local-span.ts';

const require = createRequire(import.meta.url);
// The same tree as this module: TypeScript sources under test, dist/ once built.
const ENCODER = `../../destination/encode-trace.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`;

type Encoder = typeof import('../../destination/encode-trace.ts');
let loaded: Encoder | undefined;

/**
 * Loads the encoder ahead, where the store merges traces (the pipeline's worker), and in a command's
 * own thread where `require()` of an ES module, which the lazy path uses, is switched off (a process
 * started with `--no-experimental-require-module`: `run` passes a program's NODE_OPTIONS on to the
 * tool too), as opening a store of an older version re-encodes it.
 */
export async function loadEncoder(): Promise<void> {
  loaded ??= (await import(ENCODER)) as Encoder;
}

/**
 * Encodes spans the store holds or is given as LocalSpans (a merge, a store of an older version,
 * trace files of the previous format), loading the encoder (and with it the OpenTelemetry SDK's
 * serializer) only then, synchronously, unless loadEncoder did: commands that only read the store
 * (`traces list`, `suite`) never load it, and processes that make spans have it loaded already.
 */
export function encodeLocalTrace(spans: readonly LocalSpan[]): EncodedTrace {
  return (loaded ?? (require(ENCODER) as Encoder)).encodeLocalTrace(spans);
}
