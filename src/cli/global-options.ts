import { configFlag, text, toggle, toggleOff, type OptionTable, type OptionValues } from './option-table.ts';

/** Options every command takes (--help lists them under Global Options), in --help's order. */
export const GLOBAL_OPTIONS = {
  config: text('<file>', 'config file to use instead of searching for one'),
  databricksProfile: configFlag('databricksProfile'),
  trackingUri: configFlag('trackingUri'),
  experimentName: configFlag('experimentName'),
  experimentId: configFlag('experimentId'),
  exportPath: configFlag('exportPath'),
  otlpEncoding: configFlag('otlpEncoding'),
  ucTable: configFlag('ucTable'),
  storeDir: configFlag('storeDir'),
  json: toggle('machine-readable output'),
  color: toggleOff('no colour in output'),
  verbose: toggle('more detail, including causes of errors'),
} satisfies OptionTable;

/** The global options that are not config values, parsed once by the CLI layer. */
export type GlobalOptions = OptionValues<typeof GLOBAL_OPTIONS>;
