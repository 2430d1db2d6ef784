/**
 * Every setting tandem reads from the environment, parsed in one place (the README's configuration table lists the
 * same variables). The worker builds its activities from a {@link TandemConfig} (activities/index.ts), the CLI and
 * the dev tooling read theirs from here; nothing else reads `process.env` for tandem's own variables. Connection
 * settings (`TEMPORAL_*`) belong to Temporal's envconfig and are read in node/connection.ts.
 *
 * Read at process start, never in workflow code, never into history: the API key stays in the worker's memory.
 */
import * as path from 'node:path';
import { DEFAULT_TASK_QUEUE } from '../common/contract';
import { APPROVE_EXPECTED, unknownApproveEntries } from '../common/approvals';
import type { ModelCallPurpose } from '../common/types';
import { ConfigError } from './errors';
import { MAX_TIMER_MS, parsePositiveInt } from './numbers';
import { findProjectRoot } from './project-root';
import { DEFAULT_MCP_MAX_RESULT_BYTES, type McpConfig, readMcpConfigFile } from './mcp-config';
import { commaList } from './comma-list';
import { storeLocation, type StoreLocation } from './store-location';

/** The project root: state folders default to `<root>/.tandem` so a fresh clone keeps everything in one ignored place. */
export const PROJECT_ROOT = findProjectRoot();

/** Who a model call works for: the planner (plans, reports), the judge, or an executor step. */
export type ModelRole = 'planner' | 'executor' | 'judge';

/** The role each kind of call belongs to, so a cheap model can judge and a strong one plan. */
export const ROLE_OF_PURPOSE: { [P in ModelCallPurpose]: ModelRole } = {
  plan: 'planner',
  report: 'planner',
  judge: 'judge',
  step: 'executor',
};

/** Where one role's calls go. */
export interface ModelEndpoint {
  /** Undefined means OpenAI's API. */
  baseURL: string | undefined;
  apiKey: string;
  model: string;
}

export const STRUCTURED_OUTPUT_MODES = ['auto', 'json_schema', 'json_object', 'tool'] as const;
export type StructuredOutputMode = (typeof STRUCTURED_OUTPUT_MODES)[number];

/**
 * Default output caps (`max_tokens`) per kind of call: a plan of up to 12 subtasks and a step's tool call with a
 * file's content fit in 4,096 tokens; a verdict is a sentence or two; a report a page. A degenerate reply then stops
 * at its cap (and is handled as cut off) instead of generating until the request times out.
 */
export const DEFAULT_MAX_OUTPUT_TOKENS: { readonly [P in ModelCallPurpose]: number } = {
  plan: 4096,
  step: 4096,
  judge: 1024,
  report: 2048,
};

/**
 * The model settings. The endpoint fields are `OPENAI_BASE_URL`, `OPENAI_API_KEY` (`not-needed` by default) and
 * `TANDEM_MODEL` (`gpt-4o-mini`): every role's default.
 */
export interface ModelConfig extends ModelEndpoint {
  /**
   * `TANDEM_{PLANNER,EXECUTOR,JUDGE}_{MODEL,BASE_URL,API_KEY}`: what a role uses instead of the shared endpoint;
   * fields left out fall back to it at call time.
   */
  roles: { [R in ModelRole]: Partial<ModelEndpoint> };
  /** `TANDEM_MODEL_TIMEOUT_MS`: time to the first byte of a reply, and to all of it when the server does not stream. */
  timeoutMs: number;
  /** `TANDEM_MODEL_STALL_MS`: while a reply streams, the longest wait for the next token before it counts as stalled. */
  stallMs: number;
  /** `TANDEM_MAX_OUTPUT_TOKENS`: the output cap of each kind of call. */
  maxOutputTokens: { [P in ModelCallPurpose]: number };
  /** `TANDEM_STRUCTURED_OUTPUT`: how plans and verdicts are asked for (activities/model/structured-output.ts). */
  structuredOutput: StructuredOutputMode;
  /** `TANDEM_MODEL_STREAM`: `false` never asks for a stream (default: stream, falling back when refused). */
  stream: boolean;
  /**
   * `TANDEM_IN_TEXT_TOOL_CALLS`: `false` never reads tool calls out of a reply's text (for servers that parse calls
   * themselves); default true (activities/model/in-text-tool-calls.ts, docs/prompt-injection.md).
   */
  inTextToolCalls: boolean;
}

/** The endpoint a role's calls go to: its own variables, else the shared ones. */
export function endpointFor(config: ModelConfig, role: ModelRole): ModelEndpoint {
  const own = config.roles[role];
  return {
    baseURL: own.baseURL ?? config.baseURL,
    apiKey: own.apiKey ?? config.apiKey,
    model: own.model ?? config.model,
  };
}

export interface HttpToolConfig {
  /** `TANDEM_HTTP_ALLOW`: hosts (`example.com`) or `host:port` entries `http_get` may fetch; empty allows nothing. */
  allow: string[];
  /** `TANDEM_HTTP_MAX_BYTES`: the most of a response body read. */
  maxBytes: number;
  /** `TANDEM_HTTP_TIMEOUT_MS`: one fetch, headers and body together. */
  timeoutMs: number;
}

export interface TandemConfig {
  /** `TANDEM_STATE_DIR`: local state (dev server database, workspaces, content store); default `<project>/.tandem`. */
  stateDir: string;
  /**
   * `TANDEM_WORKSPACE_ROOT`: parent of the per-goal workspace folders; default `<state>/workspaces`. This process's
   * working copy: the store holds each workspace's truth (activities/workspace-sync.ts).
   */
  workspaceRoot: string;
  /**
   * `TANDEM_STORE_URL` (a folder or `s3://bucket/prefix`; `TANDEM_STORE_DIR` is the older name of a folder): the store
   * every worker and the CLI share for content by reference, tool-call journals and workspace generations; default
   * `<state>/store` (node/store-location.ts).
   */
  store: StoreLocation;
  /** `TANDEM_TASK_QUEUE`: the task queue of the worker and of goals the CLI starts. */
  taskQueue: string;
  /** `TANDEM_LOG_LEVEL`: the SDK's log level in tandem's processes (TRACE, DEBUG, INFO, WARN, ERROR). */
  logLevel: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** `TANDEM_MAX_PARALLEL`: default of `tandem start --max-parallel`; the workflow's own default when unset. */
  maxParallel: number | undefined;
  /** `TANDEM_DEV_PORT` / `TANDEM_UI_PORT`: the local dev server's gRPC and Web UI ports. */
  devPort: number;
  uiPort: number;
  /** `TANDEM_OBSERVATION_LIMIT`: characters of one tool output the model sees (the rest is stored by reference). */
  observationLimit: number;
  model: ModelConfig;
  http: HttpToolConfig;
  /**
   * `TANDEM_MCP_CONFIG`, `TANDEM_MCP_TIMEOUT_MS` and `TANDEM_MCP_MAX_RESULT_BYTES`: the MCP servers whose tools the
   * worker offers, and how long and how large their answers may be.
   */
  mcp: McpConfig;
  /**
   * `TANDEM_APPROVE_TOOLS`: default of `tandem start --approve` (comma-separated tool names, or `side-effects`); calls
   * to these tools wait for a person. Read by the CLI when it starts a goal: workflows cannot read the environment.
   */
  approveTools: string[];
  /**
   * `TANDEM_PRICES_FILE`: a price table whose entries extend and override the shipped `prices.json`; read by the
   * worker when a goal starts (activities/prices.ts, docs/cost.md).
   */
  pricesFile: string | undefined;
  /**
   * `TANDEM_STREAM_RETENTION_HOURS` (default 168, a week), in milliseconds: how long after a goal ends a worker
   * removes its live event stream from the store (worker/stream-retention.ts, docs/stream.md "Retention").
   */
  streamRetentionMs: number;
  /**
   * `TANDEM_LIVE_STREAM` (default true): whether the worker's model and tool calls write the live event stream
   * (docs/stream.md). Off, `tandem watch` shows the tree without tokens and the endpoint serves goal events only.
   */
  liveStream: boolean;
  /** The OpenTelemetry `OTEL_*` variables tandem honours: where the worker exports traces, if anywhere ({@link TracingConfig}). */
  tracing: TracingConfig;
}

/**
 * Trace export (docs/tracing.md), from the standard OpenTelemetry variables so a collector set up for other services
 * needs nothing new. Off unless an endpoint is set: then nothing of the OpenTelemetry SDK is even loaded.
 */
export interface TracingConfig {
  /**
   * The OTLP/HTTP traces URL: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as given, else `OTEL_EXPORTER_OTLP_ENDPOINT` plus
   * `/v1/traces` (as the OTLP exporter specification says); undefined turns tracing off, as does `OTEL_SDK_DISABLED`.
   */
  tracesURL: string | undefined;
  /** `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` or `OTEL_EXPORTER_OTLP_PROTOCOL`; default `http/protobuf`, the spec's. */
  protocol: TracingProtocol;
  /** `OTEL_SERVICE_NAME`; default `tandem-worker`. */
  serviceName: string;
  /**
   * `TANDEM_OTEL_CAPTURE_CONTENT` or the GenAI conventions' `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`: put
   * prompts, replies, tool arguments and outputs on the spans. Off by default: they may hold secrets and personal data.
   */
  captureContent: boolean;
}

export const TRACING_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type TracingProtocol = (typeof TRACING_PROTOCOLS)[number];

type Env = Record<string, string | undefined>;

function text(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** A week: long enough to read a goal's stream back after a weekend, short enough that the store does not grow. */
const DEFAULT_STREAM_RETENTION_HOURS = 168;
const HOUR_MS = 3_600_000;

/** A count (bytes, characters) with a default. */
function count(env: Env, name: string, fallback: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const value = parsePositiveInt(raw);
  if (value === undefined) throw new ConfigError(name, raw, `a positive integer (e.g. ${fallback})`);
  return value;
}

/** A timeout: whole milliseconds that a Node timer can hold (see {@link MAX_TIMER_MS}). */
function milliseconds(env: Env, name: string, fallback: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const value = parsePositiveInt(raw, MAX_TIMER_MS);
  if (value === undefined) {
    throw new ConfigError(name, raw, `a number of milliseconds from 1 to ${MAX_TIMER_MS} (e.g. ${fallback})`);
  }
  return value;
}

function positiveInt(env: Env, name: string): number | undefined {
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  const value = parsePositiveInt(raw);
  if (value === undefined) throw new ConfigError(name, raw, 'a positive integer');
  return value;
}

function port(env: Env, name: string, fallback: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const value = parsePositiveInt(raw, 65_535);
  if (value === undefined) throw new ConfigError(name, raw, 'a TCP port (1-65535)');
  return value;
}

const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

function logLevel(env: Env): TandemConfig['logLevel'] {
  const raw = text(env, 'TANDEM_LOG_LEVEL');
  if (raw === undefined) return 'WARN';
  const level = LOG_LEVELS.find((candidate) => candidate === raw.toUpperCase());
  if (!level) throw new ConfigError('TANDEM_LOG_LEVEL', raw, `one of ${LOG_LEVELS.join(', ')}`);
  return level;
}

function roleEndpoint(env: Env, role: ModelRole): Partial<ModelEndpoint> {
  const prefix = `TANDEM_${role.toUpperCase()}`;
  const baseURL = text(env, `${prefix}_BASE_URL`);
  const apiKey = text(env, `${prefix}_API_KEY`);
  const model = text(env, `${prefix}_MODEL`);
  return { ...(baseURL ? { baseURL } : {}), ...(apiKey ? { apiKey } : {}), ...(model ? { model } : {}) };
}

/** `TANDEM_MAX_OUTPUT_TOKENS`: one number for every kind of call, or kinds, e.g. `step=2048,judge=512`. */
function maxOutputTokens(env: Env): ModelConfig['maxOutputTokens'] {
  const caps = { ...DEFAULT_MAX_OUTPUT_TOKENS };
  const raw = text(env, 'TANDEM_MAX_OUTPUT_TOKENS');
  if (raw === undefined) return caps;
  const expected =
    'a positive number (4096) or kinds with numbers, e.g. step=2048,judge=512 (plan, step, judge, report)';
  if (/^\d+$/.test(raw) && Number(raw) > 0) {
    for (const kind of Object.keys(caps) as ModelCallPurpose[]) caps[kind] = Number(raw);
    return caps;
  }
  for (const part of raw.split(',')) {
    const m = /^\s*(plan|step|judge|report)\s*=\s*(\d+)\s*$/.exec(part);
    if (!m || Number(m[2]) <= 0) throw new ConfigError('TANDEM_MAX_OUTPUT_TOKENS', raw, expected);
    caps[m[1] as ModelCallPurpose] = Number(m[2]);
  }
  return caps;
}

/** A true/false variable (`1/0`, `yes/no`, `on/off` too); anything else is a {@link ConfigError}. */
function flag(env: Env, name: string, fallback: boolean): boolean {
  const value = text(env, name)?.toLowerCase();
  if (value === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  throw new ConfigError(name, value, 'true or false');
}

function modelConfig(env: Env): ModelConfig {
  const structured = (text(env, 'TANDEM_STRUCTURED_OUTPUT') ?? 'auto').toLowerCase();
  const mode = STRUCTURED_OUTPUT_MODES.find((candidate) => candidate === structured);
  if (!mode)
    throw new ConfigError('TANDEM_STRUCTURED_OUTPUT', structured, `one of ${STRUCTURED_OUTPUT_MODES.join(', ')}`);
  return {
    baseURL: text(env, 'OPENAI_BASE_URL'),
    apiKey: text(env, 'OPENAI_API_KEY') ?? 'not-needed',
    model: text(env, 'TANDEM_MODEL') ?? 'gpt-4o-mini',
    roles: {
      planner: roleEndpoint(env, 'planner'),
      executor: roleEndpoint(env, 'executor'),
      judge: roleEndpoint(env, 'judge'),
    },
    timeoutMs: milliseconds(env, 'TANDEM_MODEL_TIMEOUT_MS', 120_000),
    stallMs: milliseconds(env, 'TANDEM_MODEL_STALL_MS', 30_000),
    maxOutputTokens: maxOutputTokens(env),
    structuredOutput: mode,
    stream: flag(env, 'TANDEM_MODEL_STREAM', true),
    inTextToolCalls: flag(env, 'TANDEM_IN_TEXT_TOOL_CALLS', true),
  };
}

/**
 * Parses every tandem variable of `env`. Throws a {@link ConfigError} naming the variable and its value when one is
 * set to something unusable, so a typo fails loudly instead of being ignored.
 */
export function loadConfig(env: Env = process.env): TandemConfig {
  const stateDir = path.resolve(text(env, 'TANDEM_STATE_DIR') ?? path.join(PROJECT_ROOT, '.tandem'));
  const mcpFile = text(env, 'TANDEM_MCP_CONFIG');
  return {
    stateDir,
    workspaceRoot: path.resolve(text(env, 'TANDEM_WORKSPACE_ROOT') ?? path.join(stateDir, 'workspaces')),
    store: storeLocation(env, stateDir),
    taskQueue: text(env, 'TANDEM_TASK_QUEUE') ?? DEFAULT_TASK_QUEUE,
    logLevel: logLevel(env),
    maxParallel: positiveInt(env, 'TANDEM_MAX_PARALLEL'),
    devPort: port(env, 'TANDEM_DEV_PORT', 7233),
    uiPort: port(env, 'TANDEM_UI_PORT', 8233),
    observationLimit: count(env, 'TANDEM_OBSERVATION_LIMIT', 4_000),
    model: modelConfig(env),
    http: {
      allow: (env.TANDEM_HTTP_ALLOW ?? '')
        .split(',')
        .map((host) => host.trim().toLowerCase())
        .filter((host) => host !== ''),
      maxBytes: count(env, 'TANDEM_HTTP_MAX_BYTES', 1_000_000),
      timeoutMs: milliseconds(env, 'TANDEM_HTTP_TIMEOUT_MS', 10_000),
    },
    mcp: {
      file: mcpFile,
      servers: mcpFile === undefined ? [] : readMcpConfigFile(mcpFile),
      timeoutMs: milliseconds(env, 'TANDEM_MCP_TIMEOUT_MS', 60_000),
      maxResultBytes: count(env, 'TANDEM_MCP_MAX_RESULT_BYTES', DEFAULT_MCP_MAX_RESULT_BYTES),
    },
    approveTools: approveTools(env),
    pricesFile: text(env, 'TANDEM_PRICES_FILE'),
    liveStream: flag(env, 'TANDEM_LIVE_STREAM', true),
    streamRetentionMs: count(env, 'TANDEM_STREAM_RETENTION_HOURS', DEFAULT_STREAM_RETENTION_HOURS) * HOUR_MS,
    tracing: tracingConfig(env),
  };
}

function tracingConfig(env: Env): TracingConfig {
  const base = text(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const tracesURL = flag(env, 'OTEL_SDK_DISABLED', false)
    ? undefined
    : (text(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? (base && `${base.replace(/\/+$/, '')}/v1/traces`));
  const protocolVar = text(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL')
    ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
    : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = (text(env, protocolVar) ?? 'http/protobuf').toLowerCase();
  // Checked only when tracing is on: a machine-wide `grpc` meant for other services must not stop a worker that
  // exports nothing.
  if (tracesURL !== undefined && !(TRACING_PROTOCOLS as readonly string[]).includes(protocol)) {
    throw new ConfigError(
      protocolVar,
      protocol,
      `one of ${TRACING_PROTOCOLS.join(', ')} (tandem exports OTLP over HTTP)`,
    );
  }
  const captureVar = text(env, 'TANDEM_OTEL_CAPTURE_CONTENT')
    ? 'TANDEM_OTEL_CAPTURE_CONTENT'
    : 'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT';
  return {
    tracesURL,
    protocol: protocol as TracingProtocol,
    serviceName: text(env, 'OTEL_SERVICE_NAME') ?? 'tandem-worker',
    captureContent: flag(env, captureVar, false),
  };
}

/** `TANDEM_APPROVE_TOOLS`, checked as `tandem start --approve` checks its value: a misspelt name would gate nothing. */
function approveTools(env: Env): string[] {
  const entries = commaList(env.TANDEM_APPROVE_TOOLS);
  const unknown = unknownApproveEntries(entries);
  if (unknown.length) {
    throw new ConfigError(
      'TANDEM_APPROVE_TOOLS',
      env.TANDEM_APPROVE_TOOLS ?? '',
      `${APPROVE_EXPECTED} (unknown: ${unknown.join(', ')})`,
    );
  }
  return entries;
}
