/**
 * One model call end to end, without Temporal: the endpoint for the call's role, a request the server accepts (strict
 * transcript, output cap, structured output in the mode it supports, streaming when it can), the fallbacks a server's
 * refusal calls for, and the reply normalised with its usage counted. `callModel` (../call-model.ts) wraps it in the
 * activity: content store, heartbeats, failures.
 */
import type { CallModelInput, ChatMessage } from '../../common/types';
import { type FunctionToolSpec, toolSpecs } from '../../common/tools';
import type { TokenUsage } from '../../common/usage';
import { endpointFor, type ModelConfig, type ModelEndpoint, ROLE_OF_PURPOSE } from '../../node/config';
import { errorText, isDeterministicServerError, ModelHttpError } from './failures';
import { type NormalizedReply, normalizeCompletion } from './normalize';
import { toolCallIds, toRequestMessages } from './request-messages';
import {
  type ConcreteMode,
  boundedSchema,
  dropStrictNulls,
  MODE_ORDER,
  refusesMode,
  schemaNote,
  strictSchema,
  unfence,
} from './structured-output';
import { countCompletionTokens, countPromptTokens } from './tokens';
import { endpointURL, postChatCompletion } from './transport';
import type { TextListener } from './stream';

/** What this worker learned about each endpoint and model from its refusals; lives as long as the worker. */
interface Capabilities {
  stream: boolean;
  maxTokensField: 'max_tokens' | 'max_completion_tokens';
  structured?: ConcreteMode;
}
const learned = new Map<string, Capabilities>();

/** Forgets what refusals taught (tests start each scenario from a fresh worker's view). */
export function forgetCapabilities(): void {
  learned.clear();
}

function capabilitiesOf(endpoint: ModelEndpoint, settings: ModelConfig): Capabilities {
  const key = `${endpointURL(endpoint)}|${endpoint.model}`;
  let caps = learned.get(key);
  if (!caps) {
    caps = {
      stream: settings.stream,
      maxTokensField: 'max_tokens',
      ...(settings.structuredOutput === 'auto' ? {} : { structured: settings.structuredOutput }),
    };
    learned.set(key, caps);
  }
  return caps;
}

export interface ModelRequest {
  input: Pick<CallModelInput, 'purpose' | 'subtaskId' | 'tools' | 'responseFormat' | 'model'>;
  /** The whole transcript, oldest first. */
  messages: ChatMessage[];
  /** Makes generated tool-call ids unique and stable (the prompt's transcript reference). */
  idSeed: string;
  /** Tools offered besides the built-in ones named in `input.tools`: the MCP tools, as their servers describe them. */
  extraTools?: FunctionToolSpec[];
}

export interface ModelCallDeps {
  settings: ModelConfig;
  signal: AbortSignal;
  /** Called as tokens stream in (for heartbeats). */
  onTokens?: (tokens: number) => void;
  /** Called with each piece of text or reasoning as it streams in (the live event stream). */
  onText?: TextListener;
}

export interface ModelResponse {
  reply: NormalizedReply;
  usage: TokenUsage;
  /** The model tandem asked for (the role's, or the call's own): what the call is priced by (docs/cost.md). */
  model: string;
  streamed: boolean;
  /** The structured-output mode used, when the call asked for structured output. */
  structuredMode?: ConcreteMode;
  /** The request body as last sent (for the llama suite's records; holds no key). */
  body: Record<string, unknown>;
  /** The reply's `model` field: the model that answered, which an alias or a router may have chosen (traces). */
  responseModel?: string;
}

function buildBody(
  request: ModelRequest,
  endpoint: ModelEndpoint,
  caps: Capabilities,
  cap: number,
): { body: Record<string, unknown>; mode?: ConcreteMode; strict?: Record<string, unknown> } {
  const { input } = request;
  const messages = toRequestMessages(request.messages);
  const body: Record<string, unknown> = { model: endpoint.model, messages, [caps.maxTokensField]: cap };
  if (caps.stream) Object.assign(body, { stream: true, stream_options: { include_usage: true } });
  const tools = [...toolSpecs(input.tools), ...(request.extraTools ?? [])];
  if (tools.length) body.tools = tools;
  if (!input.responseFormat) return { body };
  const { name } = input.responseFormat;
  const schema = boundedSchema(input.responseFormat.schema);
  let mode = caps.structured ?? 'json_schema';
  const strict = mode === 'json_schema' ? strictSchema(schema) : undefined;
  if (mode === 'json_schema') {
    body.response_format = {
      type: 'json_schema',
      json_schema: { name, schema: strict ?? schema, strict: strict !== undefined },
    };
  } else if (mode === 'json_object') {
    body.response_format = { type: 'json_object' };
    const first = messages.findIndex((m) => m.role === 'system');
    if (first >= 0) {
      messages[first] = { role: 'system', content: `${messages[first].content as string}\n\n${schemaNote(schema)}` };
    } else messages.unshift({ role: 'system', content: schemaNote(schema) });
  } else {
    mode = 'tool';
    body.tools = [
      ...((body.tools as unknown[]) ?? []),
      { type: 'function', function: { name, description: `Send the ${name} as the arguments.`, parameters: schema } },
    ];
    body.tool_choice = { type: 'function', function: { name } };
  }
  return { body, mode, ...(strict ? { strict } : {}) };
}

/** What a refusal teaches: the change that makes the next attempt different, or undefined if nothing would. */
function learnFrom(err: ModelHttpError, caps: Capabilities, mode: ConcreteMode | undefined, auto: boolean): boolean {
  const deterministic =
    err.status === 400 || err.status === 422 || (err.status >= 500 && isDeterministicServerError(errorText(err.body)));
  if (!deterministic) return false;
  const text = errorText(err.body).toLowerCase();
  if (caps.stream && /stream/.test(text)) {
    caps.stream = false;
    return true;
  }
  if (caps.maxTokensField === 'max_tokens' && /max_completion_tokens/.test(text)) {
    caps.maxTokensField = 'max_completion_tokens';
    return true;
  }
  if (auto && mode && refusesMode(mode, text)) {
    const next = MODE_ORDER[MODE_ORDER.indexOf(mode) + 1];
    if (next) {
      caps.structured = next;
      return true;
    }
  }
  return false;
}

/** Tokens the server did not report, counted and marked estimated. */
async function usageOf(
  reply: NormalizedReply,
  messages: ChatMessage[],
  body: Record<string, unknown>,
): Promise<TokenUsage> {
  const reported = reply.reportedUsage;
  const prompt =
    reported.promptTokens ?? (await countPromptTokens(messages, body.tools ? JSON.stringify(body.tools) : ''));
  const completion = reported.completionTokens ?? (await countCompletionTokens(reply));
  const estimated = reported.promptTokens === undefined || reported.completionTokens === undefined;
  return {
    promptTokens: prompt,
    completionTokens: completion,
    ...(estimated ? { estimated: true } : {}),
    ...(reported.cachedTokens ? { cachedTokens: reported.cachedTokens } : {}),
  };
}

/** The structured reply's JSON as the caller's schema expects it, whatever mode carried it. */
function structuredContent(
  reply: NormalizedReply,
  mode: ConcreteMode,
  name: string,
  schema: Record<string, unknown>,
  strict: boolean,
): NormalizedReply {
  let content = reply.content;
  let toolCalls = reply.toolCalls;
  if (mode === 'tool') {
    const forced = reply.toolCalls.find((call) => call.name === name) ?? reply.toolCalls[0];
    if (forced) content = forced.invalidArguments?.raw ?? forced.arguments;
    toolCalls = [];
  }
  if (content !== null) {
    content = unfence(content).trim();
    if (strict) {
      try {
        content = JSON.stringify(dropStrictNulls(JSON.parse(content), schema));
      } catch {
        // Not JSON: the caller's own check reports it to the model.
      }
    }
  }
  return {
    ...reply,
    content,
    toolCalls,
    finishReason: reply.finishReason === 'tool_calls' ? 'stop' : reply.finishReason,
  };
}

/** The texts of a transcript the model was shown but did not write: tool outputs and user messages (the goal). */
function notWrittenByModel(messages: ChatMessage[]): string[] {
  return messages.flatMap((message) => (message.role === 'tool' || message.role === 'user' ? [message.content] : []));
}

/** Makes the call, adapting to refusals that name what the server does not support (at most once per feature). */
export async function requestModelReply(request: ModelRequest, deps: ModelCallDeps): Promise<ModelResponse> {
  const { settings } = deps;
  const configured = endpointFor(settings, ROLE_OF_PURPOSE[request.input.purpose]);
  const endpoint = request.input.model ? { ...configured, model: request.input.model } : configured;
  const caps = capabilitiesOf(endpoint, settings);
  const headers: Record<string, string> = {
    'X-Tandem-Purpose': request.input.purpose,
    ...(request.input.subtaskId ? { 'X-Tandem-Subtask': request.input.subtaskId } : {}),
  };
  for (let attempt = 0; ; attempt++) {
    const built = buildBody(request, endpoint, caps, settings.maxOutputTokens[request.input.purpose]);
    try {
      const result = await postChatCompletion(built.body, {
        endpoint,
        timeoutMs: settings.timeoutMs,
        stallMs: settings.stallMs,
        signal: deps.signal,
        headers,
        onTokens: deps.onTokens,
        onText: deps.onText,
      });
      const offered = [
        ...request.input.tools,
        ...(request.extraTools ?? []).map((tool) => tool.function.name),
        ...(built.mode === 'tool' ? [request.input.responseFormat!.name] : []),
      ];
      let reply = normalizeCompletion(result.body, {
        offeredTools: offered,
        takenIds: toolCallIds(request.messages),
        idSeed: request.idSeed,
        inTextToolCalls: settings.inTextToolCalls,
        quotedSources: () => notWrittenByModel(request.messages),
      });
      if (built.mode && request.input.responseFormat) {
        const { name, schema } = request.input.responseFormat;
        reply = structuredContent(reply, built.mode, name, schema, built.strict !== undefined);
      }
      const responseModel = (result.body as { model?: unknown } | null)?.model;
      return {
        reply,
        usage: await usageOf(reply, request.messages, built.body),
        model: endpoint.model,
        ...(typeof responseModel === 'string' && responseModel ? { responseModel } : {}),
        streamed: result.streamed,
        ...(built.mode ? { structuredMode: built.mode } : {}),
        body: built.body,
      };
    } catch (err) {
      const auto = settings.structuredOutput === 'auto';
      if (attempt < 4 && err instanceof ModelHttpError && learnFrom(err, caps, built.mode, auto)) continue;
      throw err;
    }
  }
}
