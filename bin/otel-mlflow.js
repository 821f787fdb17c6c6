#!/usr/bin/env node
// Kept to syntax every Node can parse, so an old Node gets a clear message instead of a SyntaxError.
var major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(
    'otel-mlflow needs Node.js 22.15 or newer (this is ' + process.version + ').\n' +
    'hint: run it through npm in the project (`npx otel-mlflow ...`), which uses the Node pinned in ' +
    'node_modules, or install a current Node LTS.\n'
  );
  process.exit(2);
}
import('../dist/cli.js').then(function (cli) { return cli.main(process.argv); });
