import { existsSync } from 'node:fs';
import { loadConfig } from '../../config/load-config.ts';
import { describeSource } from '../../config/mask.ts';
import type { LoadConfigOptions, ResolvedConfig } from '../../config/types.ts';
import { ExitCode, ExpectedError } from '../../errors.ts';
import { commandLine } from '../../invocation.ts';
import { TraceStore } from './trace-store.ts';

/**
 * The store the app's configuration points at (OTEL_MLFLOW_STORE_DIR / --store-dir, else the state
 * dir), for the commands that read it. A directory given by name that does not exist is a typo until
 * proven otherwise: it is refused, not created empty (the default location is the tool's own).
 */
export async function openConfiguredStore(
  options: Omit<LoadConfigOptions, 'purpose'>,
): Promise<{ config: ResolvedConfig; store: TraceStore }> {
  const config = await loadConfig({ ...options, purpose: 'app' });
  const { value: dir, source } = config.storeDir;
  const named = source.kind !== 'default' && !(source.kind === 'env' && source.name === 'XDG_STATE_HOME');
  if (named && !existsSync(dir)) {
    throw new ExpectedError(`there is no trace store at ${dir} (from ${describeSource(source)})`, {
      exitCode: ExitCode.usage,
      hint: `check the path; a store is made by the first command that records a trace there (\`${commandLine('ask')}\`, serve, suite, doctor)`,
    });
  }
  return { config, store: TraceStore.open(dir, { maxBytes: config.storeMaxBytes.value }) };
}
