import { findTemporalCli } from '../scripts/temporal-cli-paths.cjs';

/**
 * Returns the path of the `temporal` CLI to run, found in the same order as the npm postinstall script:
 * `TEMPORAL_CLI_PATH`, the project-local `.tandem/tools/venv`, then PATH. Nothing is downloaded at run time.
 *
 * @throws Error saying how to provide the CLI when none is found, or when `TEMPORAL_CLI_PATH` is set but is not an
 *   executable file.
 */
export function resolveTemporalCli(): string {
  const found = findTemporalCli(process.env);
  if (!found) {
    throw new Error(
      'The temporal CLI was not found (checked TEMPORAL_CLI_PATH, .tandem/tools/venv and PATH). ' +
        'Run `npm install` to install the pinned version, or set TEMPORAL_CLI_PATH=/path/to/temporal.',
    );
  }
  return found.path;
}
