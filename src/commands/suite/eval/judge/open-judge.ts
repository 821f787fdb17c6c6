import type { LoadConfigOptions } from '../../../../config/types.ts';
import { ExitCode, ExpectedError } from '../../../../errors.ts';
import type { AppRuntime } from '../../../../agent/agent-runtime.ts';
import { createLlmJudge, type Judge } from './llm-judge.ts';

export interface OpenJudge {
  judge: Judge;
  /** What the person should know of a runtime started for the judge (an experiment created…). */
  notices: string[];
  /** Flushes the judge's traces when it has its own runtime. */
  close(): Promise<void>;
}

/**
 * `--judge`: the configured model, in the process's one tracer provider: the spawned server's
 * runtime, or one started here when the suite asks a running server. The built-in offline model
 * cannot judge, so it is refused before any question is asked.
 */
export async function openJudge(spawned: AppRuntime | undefined, config: Omit<LoadConfigOptions, 'purpose'>): Promise<OpenJudge> {
  let runtime = spawned;
  if (!runtime) {
    const { startAppRuntime } = await import('../../../../agent/agent-runtime.ts');
    runtime = await startAppRuntime({ config, origin: 'suite' });
  }
  const own = runtime === spawned ? undefined : runtime;
  if (runtime.llm.provider === 'offline') {
    await own?.shutdown(0);
    throw new ExpectedError('--judge needs a real LLM to judge with: the built-in offline model only quotes its notes', {
      exitCode: ExitCode.usage,
      hint: 'set OPENAI_API_KEY or ANTHROPIC_API_KEY (or --provider openai|anthropic|databricks with its settings), or leave out --judge',
    });
  }
  const { FLUSH_DEADLINE_MS } = await import('../../../../runtime/start-tracing.ts');
  return {
    judge: createLlmJudge({ llm: runtime.llm, tracer: runtime.tracer }),
    notices: own ? own.notices : [],
    close: async () => {
      await own?.shutdown(FLUSH_DEADLINE_MS);
    },
  };
}
