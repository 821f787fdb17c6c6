import type { ResolvedConfig } from '../../config/types.ts';
import { adoptSpool, leftInSpool, spoolRoots, spoolSettings, type SpoolEnd } from '../../pipeline/spool/spool.ts';
import { takeInSpool } from '../../pipeline/spool/spool-intake.ts';

/**
 * Batches of spans that stopped runs with these settings left in the spool (their tool killed, their
 * store full at their end), taken into the store through a receiver of the push's own, as `run` would
 * have: then the push sends their traces with the others. Undefined when there were none.
 */
export async function takeInLeftBatches(config: ResolvedConfig): Promise<SpoolEnd | undefined> {
  const captureContent = config.llm.captureContent.value;
  const settings = spoolSettings(config, captureContent);
  const storeDir = config.storeDir.value;
  if ((await leftInSpool(storeDir, settings)).withSettings === 0) return undefined;
  // Loaded only now: most pushes find no spool.
  const { startRelay } = await import('../../relay/start-relay.ts');
  // Stored only: the push delivers them, and says of each where it went; a delivery cut short here would leave them leased.
  const relay = await startRelay({ config, host: '127.0.0.1', port: 0, grpcPort: null, captureContent, deliver: false });
  try {
    const spool = await adoptSpool(spoolRoots(storeDir), settings);
    // One round: a store too full to take it all has room once this push delivered, and the next push takes the rest.
    return await takeInSpool(spool, { tracesUrl: `${relay.httpUrl}/v1/traces` }).end(Date.now());
  } finally {
    await relay.close(0);
  }
}
