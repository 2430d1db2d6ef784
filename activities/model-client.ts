/**
 * The one place tandem talks to an OpenAI-compatible endpoint (OpenAI, Ollama, vLLM, llama.cpp's server).
 *
 * Temporal owns retries: the openai client's own retries are off, and each failure is translated into an
 * `ApplicationFailure` whose type and retryability tell the activity retry policy what to do.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import OpenAI, { APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { FailureType } from '../common/failures';
import type { ModelConfig } from '../node/config';
import { whileHeartbeating } from './heartbeat';

/** Failure types raised by model calls; retry policies and the executor match on these names. */
export const ModelFailureType = {
  RateLimited: FailureType.ModelRateLimited,
  Unavailable: FailureType.ModelUnavailable,
  RequestRejected: FailureType.ModelRequestRejected,
  MalformedReply: FailureType.ModelMalformedReply,
} as const;

function client(config: ModelConfig): { openai: OpenAI; model: string } {
  const openai = new OpenAI({
    baseURL: config.baseURL,
    apiKey: config.apiKey,
    timeout: config.timeoutMs,
    maxRetries: 0,
  });
  return { openai, model: config.model };
}

/** Seconds from a Retry-After header (delta-seconds or HTTP date), or from the non-standard retry-after-ms. */
function retryAfterMs(headers: Headers | undefined): number | undefined {
  const ms = Number(headers?.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const raw = headers?.get('retry-after');
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Translates an openai error into the failure the retry policy acts on. */
export function toModelFailure(err: unknown, endpoint: string): ApplicationFailure {
  if (err instanceof APIError && err.status !== undefined) {
    const status = err.status;
    const detail = `${endpoint} answered HTTP ${status}: ${err.message}`;
    if (status === 429) {
      const delay = retryAfterMs(err.headers);
      return ApplicationFailure.create({
        type: ModelFailureType.RateLimited,
        message: `${detail} (rate limited; retrying${delay === undefined ? '' : ` after ${delay} ms`})`,
        nextRetryDelay: delay,
      });
    }
    if (status >= 500 || status === 408 || status === 409) {
      return ApplicationFailure.retryable(detail, ModelFailureType.Unavailable);
    }
    return ApplicationFailure.nonRetryable(
      `${detail}. Check OPENAI_BASE_URL, OPENAI_API_KEY and TANDEM_MODEL`,
      ModelFailureType.RequestRejected,
    );
  }
  if (err instanceof APIConnectionTimeoutError) {
    return ApplicationFailure.retryable(`${endpoint} did not answer in time`, ModelFailureType.Unavailable);
  }
  if (err instanceof APIError) {
    // No status: the connection failed or the body could not be parsed.
    return ApplicationFailure.retryable(`${endpoint}: ${err.message}`, ModelFailureType.Unavailable);
  }
  if (err instanceof SyntaxError) {
    return ApplicationFailure.retryable(
      `${endpoint} sent a reply that is not JSON: ${err.message}`,
      ModelFailureType.MalformedReply,
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  return ApplicationFailure.retryable(`${endpoint}: ${message}`, ModelFailureType.Unavailable);
}

/**
 * One chat-completions request from inside an activity: heartbeats while it waits and aborts when the activity is
 * cancelled, so cancelling a workflow stops a slow model call instead of waiting it out.
 */
export async function createChatCompletion(
  config: ModelConfig,
  params: Omit<ChatCompletionCreateParamsNonStreaming, 'model'>,
  headers: Record<string, string> = {},
): Promise<ChatCompletion> {
  const { openai, model } = client(config);
  const context = Context.current();
  return whileHeartbeating(async () => {
    try {
      const completion = await openai.chat.completions.create(
        { ...params, model },
        { signal: context.cancellationSignal, headers },
      );
      if (!Array.isArray(completion?.choices) || completion.choices.length === 0 || !completion.choices[0].message) {
        throw ApplicationFailure.retryable(
          `${openai.baseURL} sent a reply without choices: ${JSON.stringify(completion).slice(0, 200)}`,
          ModelFailureType.MalformedReply,
        );
      }
      return completion;
    } catch (err) {
      if (err instanceof ApplicationFailure) throw err;
      if (err instanceof APIUserAbortError) throw context.cancellationSignal.reason ?? err;
      throw toModelFailure(err, openai.baseURL);
    }
  });
}
