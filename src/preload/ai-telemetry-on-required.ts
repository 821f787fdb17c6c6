/**
 * What a CommonJS program's `require('ai')` of `ai` 6 or earlier gets under `run`: the package's
 * exports object, with telemetry switched on (see ai-with-telemetry.ts). Node's `require()` of an ES
 * module answers its `module.exports` export when it has one.
 */
import * as ai from 'ai';
import { withTelemetry } from './ai-with-telemetry.ts';

/** The package is the first copy's CommonJS build here: its exports object is the default export. */
const required = withTelemetry((ai as unknown as { default: object }).default);

export { required as 'module.exports' };
