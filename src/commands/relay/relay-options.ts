import { RUN_FLAG, configFlag, parsed, text, type OptionTable, type OptionValues } from '../../cli/option-table.ts';
import { parsePort } from '../../cli/parse-whole-number.ts';

export const RELAY_OPTIONS = {
  ...RUN_FLAG,
  port: parsed('<port>', 'OTLP/HTTP port', parsePort, '4318'),
  /** `null`: no gRPC receiver. */
  grpcPort: parsed('<port>', 'OTLP/gRPC port, or `off`', (given, flag) => (given === 'off' ? null : parsePort(given, flag)), '4317'),
  host: text('<host>', 'address to listen on', '127.0.0.1'),
  authToken: configFlag(
    'authToken',
    'require `Authorization: Bearer <token>` on OTLP requests; `-` reads it from stdin (or OTEL_MLFLOW_AUTH_TOKEN)',
  ),
} satisfies OptionTable;

export type RelayOptions = OptionValues<typeof RELAY_OPTIONS>;
