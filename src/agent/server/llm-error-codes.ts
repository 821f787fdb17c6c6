/** The error codes of a 502 from the model provider, as servers send them and clients read them. */

/** The provider answered with an error, or broke off. */
export const LLM_ERROR = 'llm_error';
/** The provider cannot be reached at all (DNS, refused, TLS): a client asking many questions stops at the first. */
export const LLM_UNREACHABLE = 'llm_unreachable';
