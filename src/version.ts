import { createRequire } from 'node:module';

/** Read from package.json so `--version`, spans and `/` never disagree with what was published. */
export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
