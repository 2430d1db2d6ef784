/**
 * Activity-side configuration, read from the environment at call time (never in workflow code, never in history).
 * Every variable is documented in the README's configuration table.
 */
import * as path from 'node:path';

/** The project root: state folders default to `<root>/.tandem` so a fresh clone keeps everything in one ignored place. */
const projectRoot = path.resolve(__dirname, '..');

function envString(name: string, fallback: string): string {
  const value = process.env[name];
  return value === undefined || value.trim() === '' ? fallback : value.trim();
}

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(
      `${name}=${JSON.stringify(raw)} is not a positive number; unset it or set e.g. ${name}=${fallback}`,
    );
  }
  return value;
}

/** `TANDEM_STATE_DIR`: local state (dev server database, workspaces, content store). */
export function stateDir(): string {
  return path.resolve(envString('TANDEM_STATE_DIR', path.join(projectRoot, '.tandem')));
}

/** `TANDEM_WORKSPACE_ROOT`: parent of the per-goal workspace folders that file tools are confined to. */
export function workspaceRoot(): string {
  return path.resolve(envString('TANDEM_WORKSPACE_ROOT', path.join(stateDir(), 'workspaces')));
}

/**
 * `TANDEM_STORE_DIR`: the content store (transcripts, full tool outputs). It must be shared by every worker that
 * serves the task queue (a local folder for the embedded default, a shared volume on a cluster).
 */
export function storeDir(): string {
  return path.resolve(envString('TANDEM_STORE_DIR', path.join(stateDir(), 'store')));
}

export interface ModelConfig {
  baseURL: string | undefined;
  apiKey: string;
  model: string;
  timeoutMs: number;
}

/**
 * `OPENAI_BASE_URL`, `OPENAI_API_KEY`, `TANDEM_MODEL`, `TANDEM_MODEL_TIMEOUT_MS`. The key is read here, inside the
 * activity, so it never enters workflow inputs, results or history.
 */
export function modelConfig(): ModelConfig {
  return {
    baseURL: process.env.OPENAI_BASE_URL || undefined,
    apiKey: envString('OPENAI_API_KEY', 'not-needed'),
    model: envString('TANDEM_MODEL', 'gpt-4o-mini'),
    timeoutMs: envNumber('TANDEM_MODEL_TIMEOUT_MS', 120_000),
  };
}

/**
 * `TANDEM_OBSERVATION_LIMIT`: characters of one tool output the model sees; a longer output reaches it trimmed with a
 * note, and the full text is kept in the content store.
 */
export function observationLimit(): number {
  return envNumber('TANDEM_OBSERVATION_LIMIT', 4_000);
}

/**
 * `TANDEM_HTTP_ALLOW`: comma-separated hosts `http_get` may fetch from (`example.com`, or `127.0.0.1:8080` for one
 * port). Empty by default: nothing is allowed until an operator says so.
 */
export function httpAllowList(): string[] {
  return (process.env.TANDEM_HTTP_ALLOW ?? '')
    .split(',')
    .map((host) => host.trim().toLowerCase())
    .filter((host) => host !== '');
}

/** `TANDEM_HTTP_MAX_BYTES`: the most of a response body `http_get` reads; the rest is cut off. */
export function httpMaxBytes(): number {
  return envNumber('TANDEM_HTTP_MAX_BYTES', 1_000_000);
}

/** `TANDEM_HTTP_TIMEOUT_MS`: how long one `http_get` may take, headers and body together. */
export function httpTimeoutMs(): number {
  return envNumber('TANDEM_HTTP_TIMEOUT_MS', 10_000);
}
