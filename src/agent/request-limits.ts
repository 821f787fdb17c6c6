/**
 * The longest question (or task) the agent takes, whether asked over HTTP or in the process: long enough
 * for a real question, short enough to bound one model call. Beyond it, serve answers 400.
 */
export const MAX_QUERY_CHARS = 8000;

/** Passages a retrieval returns: `top_k` of `/rag/v1/answer` and of the search tool. */
export const TOP_K = { min: 1, max: 10, default: 3 } as const;

/** Model turns an agent task may take before it must answer: `max_steps` of `/agent/task`. */
export const MAX_STEPS = { min: 1, max: 10, default: 5 } as const;
