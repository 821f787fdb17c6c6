/**
 * The longest question (or task) the agent takes, whether asked over HTTP or in the process: long enough
 * for a real question, short enough to bound one model call. Beyond it, serve answers 400.
 */
export const MAX_QUERY_CHARS = 8000;
