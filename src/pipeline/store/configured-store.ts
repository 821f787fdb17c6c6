import { loadConfig } from '../../config/load-config.ts';
import type { LoadConfigOptions, ResolvedConfig } from '../../config/types.ts';
import { TraceStore } from './trace-store.ts';

/** The store the app's configuration points at (OTEL_MLFLOW_STORE_DIR / --store-dir, else the state dir). */
export async function openConfiguredStore(options: Omit<LoadConfigOptions, 'purpose'>): Promise<{ config: ResolvedConfig; store: TraceStore }> {
  const config = await loadConfig({ ...options, purpose: 'app' });
  return { config, store: TraceStore.open(config.storeDir.value, { maxBytes: config.storeMaxBytes.value }) };
}
