#!/usr/bin/env node
// Kept to syntax every Node can parse, so an old Node gets a clear message instead of a SyntaxError.
var version = process.versions.node.split('.').map(Number);
var tooOld = version[0] < 22 || (version[0] === 22 && version[1] < 15);
// Set in the environment of a re-run under the pinned Node, so a pinned Node that is too old cannot loop.
var REEXEC_MARK = 'OTEL_MLFLOW_PINNED_NODE';

if (!tooOld) {
  start();
} else if (process.env[REEXEC_MARK]) {
  refuse();
} else {
  // Linked or installed on PATH, this runs under the system Node: use the one the project pins in node_modules.
  Promise.all([import('node:child_process'), import('node:fs'), import('node:url')]).then(function (modules) {
    var childProcess = modules[0];
    var fs = modules[1];
    var url = modules[2];
    var pinned = url.fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url));
    if (!fs.existsSync(pinned)) return refuse();
    var env = Object.assign({}, process.env);
    env[REEXEC_MARK] = pinned;
    var child = childProcess.spawn(pinned, [url.fileURLToPath(import.meta.url)].concat(process.argv.slice(2)), { stdio: 'inherit', env: env });
    // Ctrl-C reaches the child from the terminal already (passing it on would make it a second Ctrl-C);
    // a signal sent to this process alone is passed on.
    process.on('SIGINT', function () {});
    ['SIGTERM', 'SIGHUP'].forEach(function (signal) { process.on(signal, function () { child.kill(signal); }); });
    child.on('exit', function (code, signal) {
      if (signal) {
        process.removeAllListeners(signal);
        process.kill(process.pid, signal);
      } else process.exit(code);
    });
  });
}

function refuse() {
  process.stderr.write(
    'otel-mlflow needs Node.js 22.15 or newer (this is ' + process.version + ').\n' +
    'hint: run `npm ci` in the project, which installs the Node it pins into node_modules, then run `npx otel-mlflow ...` ' +
    'or `npm link` there; or install a current Node LTS.\n'
  );
  process.exit(2);
}

function start() {
  // Compiled code is cached on disk between runs (Node 22.1+): start-up is paid for once, not on every call.
  process.getBuiltinModule('node:module').enableCompileCache();
  import('../dist/cli.js').then(function (cli) { return cli.main(process.argv); });
}
