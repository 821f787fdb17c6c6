// A program's own OpenTelemetry set-up, required before its code (`node --require`), as OpenTelemetry JS
// documents: a diag logger registered through the program's @opentelemetry/api, older than the tool's.
const api = require('@opentelemetry/api');

api.diag.setLogger(new api.DiagConsoleLogger(), api.DiagLogLevel.ERROR);
