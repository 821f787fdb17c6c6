export { bodyLimit, quotedHeader, type BodyLimitOptions } from './body-limit.ts';
