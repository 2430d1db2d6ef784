/**
 * Phase 2 of both loops, reasoning: the one activity that calls the model. The planner, the judge and the executors
 * all reason through it.
 *
 * The conversation is kept by reference (see ./transcripts.ts): the workflow sends only the messages that are new since
 * its last call, and gets back the reference of the transcript extended by them and by the model's reply. The reply
 * itself is read at the model boundary (./model/): whatever the server sent, what leaves this activity is tandem's own
 * validated type, so workflow code never sees a provider's raw shape.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { CallModelInput, CallModelOutput, ChatMessage } from '../common/types';
import { FailureType } from '../common/failures';
import { endpointFor, ROLE_OF_PURPOSE } from '../node/config';
import { expandContentMarkers, REPLY_INLINE_CHARS, sliceChars } from '../common/limits';
import type { ActivityDeps } from './deps';
import { whileHeartbeating } from './heartbeat';
import { CallStream } from './event-stream';
import {
  httpFailure,
  isDeterministicServerError,
  ModelHttpError,
  ModelTransportError,
  transportFailure,
} from './model/failures';
import { ModelReplyError } from './model/normalize';
import { neutralizeToolCallMarkup } from './model/in-text-tool-calls';
import { requestModelReply, type ModelResponse } from './model/request';
import { endpointURL } from './model/transport';
import { inlineArguments } from './large-arguments';
import { trimObservation } from './observations';
import { appendToTranscript, loadTranscript } from './transcripts';
import { mcpToolSpecs } from './mcp/discovery';

/**
 * What a running `callModel` heartbeats: how far its reply has streamed. The CLI reads it from the pending activity
 * (`tandem status` / `watch`), since workflow code cannot see an activity in flight.
 */
export interface CallModelHeartbeat {
  purpose: CallModelInput['purpose'];
  subtaskId?: string;
  /** Tokens (chunks with text) streamed so far in this attempt. */
  streamedTokens: number;
}

/** Heartbeat details at most this often while tokens stream (the SDK throttles what it sends anyway). */
const TOKEN_HEARTBEAT_MS = 1_000;

/**
 * The new messages as the transcript keeps them. The workflow's own prompts (system and user messages) may carry
 * content markers for text too large for history (a goal passed by reference): they are replaced by the stored text, so
 * the transcript and the model have it all. Tool outputs are data: their tool-call markup is defused, so a page that
 * holds `<tool_call>` cannot have its call run by quoting it (docs/prompt-injection.md).
 */
function prepareAppended(store: ActivityDeps['store'], messages: ChatMessage[]): Promise<ChatMessage[]> {
  return Promise.all(
    messages.map(async (message) => {
      if (message.role === 'tool') return { ...message, content: neutralizeToolCallMarkup(message.content) };
      if (message.role === 'assistant') return message;
      return { ...message, content: await expandContentMarkers(message.content, (ref) => store.get(ref)) };
    }),
  );
}

/** Reasoning is informational: the workflow gets its start, the transcript keeps all of it. */
const REASONING_INLINE_LIMIT = 4_000;

/** Well under Temporal's 2 MB payload limit, which would otherwise fail the activity's completion retryably forever. */
const MAX_OUTPUT_BYTES = 1_500_000;

export async function callModel(deps: ActivityDeps, input: CallModelInput): Promise<CallModelOutput> {
  const { store } = deps;
  const context = Context.current();
  const prompt = await appendToTranscript(store, input.transcript, await prepareAppended(store, input.append));
  const messages = await loadTranscript(store, prompt);
  const progress: CallModelHeartbeat = {
    purpose: input.purpose,
    ...(input.subtaskId ? { subtaskId: input.subtaskId } : {}),
    streamedTokens: 0,
  };
  let lastBeat = 0;
  const started = Date.now();
  // The reply as it streams, for `tandem watch` and `tandem serve` (docs/stream.md); flushed before the activity returns.
  const live = new CallStream(deps.config.liveStream ? store.objects : undefined, input.subtaskId);
  live.push({ ...live.ref, type: 'model-start', purpose: input.purpose });
  let streamedText = false;
  const response = await whileHeartbeating(
    async () => {
      try {
        return await requestModelReply(
          { input, messages, idSeed: prompt.slice(-12), extraTools: await mcpToolSpecs(store, input.mcpTools) },
          {
            settings: deps.config.model,
            signal: context.cancellationSignal,
            onTokens: (tokens) => {
              progress.streamedTokens = tokens;
              if (Date.now() - lastBeat >= TOKEN_HEARTBEAT_MS) {
                lastBeat = Date.now();
                context.heartbeat(progress);
              }
            },
            onText: (kind, text) => {
              streamedText = true;
              live.text(kind, text);
            },
          },
        );
      } catch (err) {
        if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason ?? err;
        throw toFailure(err, deps, input);
      }
    },
    () => progress,
  ).finally(() => live.flush());
  const { reply } = response;
  // A server that does not stream sends the reply whole: watchers get it as one delta of each kind.
  if (!streamedText && reply.reasoning) live.text('reasoning', reply.reasoning);
  if (!streamedText && reply.content) live.text('content', reply.content);
  live.push({ ...live.ref, type: 'model-end', tokens: progress.streamedTokens });
  await live.flush();
  const elapsedMs = Date.now() - started;
  return guardPayloadSize({ ...(await toOutput(deps, prompt, response)), elapsedMs });
}

async function toOutput(deps: ActivityDeps, prompt: string, response: ModelResponse): Promise<CallModelOutput> {
  const { reply, usage, model, responseModel } = response;
  // A refusal with no text is what the model answered: the caller treats it like any answer.
  const content = reply.content?.trim() ? reply.content : (reply.refusal ?? reply.content);
  const message: ChatMessage = {
    role: 'assistant',
    content,
    toolCalls: reply.toolCalls,
    ...(reply.reasoning ? { reasoning: reply.reasoning } : {}),
  };
  // The transcript keeps the whole reply; the workflow gets a bounded copy (see REPLY_INLINE_CHARS).
  const inline =
    content === null
      ? null
      : await trimObservation(content, REPLY_INLINE_CHARS, deps.store, {
          hint: 'Read it with: tandem output <goal id> <ref>.',
        });
  return {
    transcript: await appendToTranscript(deps.store, prompt, [message]),
    content: inline?.output ?? null,
    ...(inline?.outputRef ? { contentRef: inline.outputRef } : {}),
    // Provider fields (thought signatures) stay in the transcript, out of history; so do arguments too large for it.
    toolCalls: await inlineArguments(
      deps.store,
      reply.toolCalls.map(({ providerFields: _kept, ...call }) => call),
    ),
    finishReason: reply.finishReason,
    usage,
    model,
    ...(responseModel ? { responseModel } : {}),
    ...(reply.reasoning ? { reasoning: sliceChars(reply.reasoning, REASONING_INLINE_LIMIT) } : {}),
    ...(reply.refusal ? { refusal: reply.refusal } : {}),
    ...(reply.problem ? { problem: reply.problem } : {}),
    ...(reply.repairs.length ? { repairs: reply.repairs } : {}),
  };
}

/** The failure the retry policy acts on, with the endpoint's words and what to check. */
function toFailure(err: unknown, deps: ActivityDeps, input: CallModelInput): unknown {
  const role = ROLE_OF_PURPOSE[input.purpose];
  const endpoint = endpointURL(endpointFor(deps.config.model, role));
  if (err instanceof ModelHttpError) {
    return httpFailure(
      err,
      `Check OPENAI_BASE_URL, OPENAI_API_KEY and TANDEM_MODEL (or TANDEM_${role.toUpperCase()}_BASE_URL, _API_KEY, _MODEL)`,
    );
  }
  if (err instanceof ModelTransportError) return transportFailure(err);
  if (err instanceof ModelReplyError) {
    if (err.serverError !== undefined && isDeterministicServerError(err.serverError)) {
      return ApplicationFailure.nonRetryable(`${endpoint}: ${err.message}`, FailureType.ModelRequestRejected);
    }
    return ApplicationFailure.retryable(`${endpoint}: ${err.message}`, FailureType.ModelMalformedReply);
  }
  if (err instanceof ApplicationFailure) return err;
  const message = err instanceof Error ? err.message : String(err);
  return ApplicationFailure.retryable(`${endpoint}: ${message}`, FailureType.ModelMalformedReply);
}

/** Fails fast, without retries, on a reply still too big once text and arguments went by reference (thousands of calls). */
function guardPayloadSize(output: CallModelOutput): CallModelOutput {
  const bytes = Buffer.byteLength(JSON.stringify(output));
  if (bytes > MAX_OUTPUT_BYTES) {
    throw ApplicationFailure.nonRetryable(
      `the model's reply is ${bytes} bytes once trimmed, over the ${MAX_OUTPUT_BYTES}-byte limit for workflow ` +
        'history (it makes too many tool calls at once); ask for fewer calls per step',
      FailureType.ModelReplyTooLarge,
    );
  }
  return output;
}
