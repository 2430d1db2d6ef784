/**
 * Model settings: which endpoint and model each role uses, how requests are shaped (structured output, output cap,
 * streaming) and when a call counts as stalled. Parsed from an environment record, so the worker reads
 * `process.env` once and activities get the result injected; keys stay in the worker and never reach history.
 */
import type { ModelCallPurpose } from '../common/types';

/** Who a model call works for: the planner (plans, reports), the judge, or an executor step. */
export type ModelRole = 'planner' | 'executor' | 'judge';

export const ROLE_OF_PURPOSE: { [P in ModelCallPurpose]: ModelRole } = {
  plan: 'planner',
  report: 'planner',
  judge: 'judge',
  step: 'executor',
};

export interface ModelEndpoint {
  /** Undefined means OpenAI's API. */
  baseURL: string | undefined;
  apiKey: string;
  model: string;
}

export const STRUCTURED_OUTPUT_MODES = ['auto', 'json_schema', 'json_object', 'tool'] as const;
export type StructuredOutputMode = (typeof STRUCTURED_OUTPUT_MODES)[number];

export interface ModelSettings {
  endpoints: { [R in ModelRole]: ModelEndpoint };
  /** Time to the first byte of a reply (and the whole reply when the server does not stream). */
  timeoutMs: number;
  /** While streaming: longest wait for the next token before the call counts as stalled. */
  stallMs: number;
  /** Output cap (`max_tokens`) per kind of call. */
  maxOutputTokens: { [P in ModelCallPurpose]: number };
  structuredOutput: StructuredOutputMode;
  /** `false` when `TANDEM_MODEL_STREAM=0`: never ask for a stream. */
  stream: boolean;
}

/**
 * Default output caps, per kind of call: a plan of up to 12 subtasks and a step's tool call with a file's content fit
 * in 4,096 tokens; a verdict is a sentence; a report a page. A degenerate reply stops at its cap instead of running
 * into the timeout.
 */
export const DEFAULT_MAX_OUTPUT_TOKENS: { [P in ModelCallPurpose]: number } = {
  plan: 4096,
  step: 4096,
  judge: 1024,
  report: 2048,
};

type Env = Record<string, string | undefined>;

function value(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

function positive(env: Env, name: string, fallback: number): number {
  const raw = value(env, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    throw new Error(
      `${name}=${JSON.stringify(raw)} is not a positive number; unset it or set e.g. ${name}=${fallback}`,
    );
  }
  return n;
}

/**
 * `TANDEM_MAX_OUTPUT_TOKENS`: one number for every kind of call, or per kind, e.g. `step=2048,judge=512` (kinds not
 * named keep their defaults).
 */
function maxOutputTokens(env: Env): ModelSettings['maxOutputTokens'] {
  const raw = value(env, 'TANDEM_MAX_OUTPUT_TOKENS');
  const caps = { ...DEFAULT_MAX_OUTPUT_TOKENS };
  if (raw === undefined) return caps;
  const bad = () =>
    new Error(
      `TANDEM_MAX_OUTPUT_TOKENS=${JSON.stringify(raw)} is not understood; set a number (4096) or kinds, e.g. ` +
        'step=2048,judge=512 (kinds: plan, step, judge, report)',
    );
  if (/^\d+$/.test(raw)) {
    const n = Number(raw);
    if (n <= 0) throw bad();
    for (const kind of Object.keys(caps) as ModelCallPurpose[]) caps[kind] = n;
    return caps;
  }
  for (const part of raw.split(',')) {
    const m = /^\s*(plan|step|judge|report)\s*=\s*(\d+)\s*$/.exec(part);
    if (!m || Number(m[2]) <= 0) throw bad();
    caps[m[1] as ModelCallPurpose] = Number(m[2]);
  }
  return caps;
}

function endpoint(env: Env, role: ModelRole, shared: ModelEndpoint): ModelEndpoint {
  const prefix = `TANDEM_${role.toUpperCase()}`;
  return {
    baseURL: value(env, `${prefix}_BASE_URL`) ?? shared.baseURL,
    apiKey: value(env, `${prefix}_API_KEY`) ?? shared.apiKey,
    model: value(env, `${prefix}_MODEL`) ?? shared.model,
  };
}

/**
 * Reads every model variable (README, "Configuration"): `OPENAI_BASE_URL`, `OPENAI_API_KEY`, `TANDEM_MODEL`, per role
 * `TANDEM_{PLANNER,EXECUTOR,JUDGE}_{MODEL,BASE_URL,API_KEY}` (each defaulting to the shared one),
 * `TANDEM_MODEL_TIMEOUT_MS`, `TANDEM_MODEL_STALL_MS`, `TANDEM_MAX_OUTPUT_TOKENS`, `TANDEM_STRUCTURED_OUTPUT`,
 * `TANDEM_MODEL_STREAM`.
 */
export function parseModelSettings(env: Env): ModelSettings {
  const shared: ModelEndpoint = {
    baseURL: value(env, 'OPENAI_BASE_URL'),
    apiKey: value(env, 'OPENAI_API_KEY') ?? 'not-needed',
    model: value(env, 'TANDEM_MODEL') ?? 'gpt-4o-mini',
  };
  const structured = value(env, 'TANDEM_STRUCTURED_OUTPUT') ?? 'auto';
  if (!(STRUCTURED_OUTPUT_MODES as readonly string[]).includes(structured)) {
    throw new Error(
      `TANDEM_STRUCTURED_OUTPUT=${JSON.stringify(structured)} is not one of ${STRUCTURED_OUTPUT_MODES.join(', ')}; ` +
        'unset it for auto',
    );
  }
  const stream = value(env, 'TANDEM_MODEL_STREAM') ?? '1';
  return {
    endpoints: {
      planner: endpoint(env, 'planner', shared),
      executor: endpoint(env, 'executor', shared),
      judge: endpoint(env, 'judge', shared),
    },
    timeoutMs: positive(env, 'TANDEM_MODEL_TIMEOUT_MS', 120_000),
    stallMs: positive(env, 'TANDEM_MODEL_STALL_MS', 30_000),
    maxOutputTokens: maxOutputTokens(env),
    structuredOutput: structured as StructuredOutputMode,
    stream: !['0', 'false', 'no', 'off'].includes(stream.toLowerCase()),
  };
}
