export { DEFAULT_MAX_BODY_BYTES, jsonBody, type JsonBodyOptions } from './json-body.ts';
