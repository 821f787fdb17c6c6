/**
 * What a program's `import` of `ai` 6 or earlier gets under `run`: the package's exports (the copy
 * this module's URL names), with telemetry switched on (see ai-with-telemetry.ts).
 */
import * as ai from 'ai';
import { withTelemetry } from './ai-with-telemetry.ts';

export * from 'ai';

// The names instrumentVercelAi replaces (its TELEMETRY_FUNCTIONS and TELEMETRY_AGENTS), spelled out: an ES
// module's export names are static, so one added there must be added here too.
export const { generateText, streamText, generateObject, streamObject, embed, embedMany, rerank, ToolLoopAgent, Experimental_Agent } =
  withTelemetry(ai);
