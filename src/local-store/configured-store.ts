import { loadConfig } from '../config/load-config.ts';
import type { LoadConfigOptions, ResolvedConfig } from '../config/types.ts';
import { LocalTraceStore } from './local-trace-store.ts';

/** The store the app's configuration points at (OTEL_MLFLOW_STORE_DIR / --store-dir, else the state dir). */
export async function openConfiguredStore(options: Omit<LoadConfigOptions, 'purpose'>): Promise<{ config: ResolvedConfig; store: LocalTraceStore }> {
  const config = await loadConfig({ ...options, purpose: 'app' });
  return { config, store: new LocalTraceStore(config.storeDir.value) };
}
