/**
 * What went wrong talking to a model server, sorted by what retrying can do about it. Temporal owns retries, so each
 * problem becomes an `ApplicationFailure` whose type (common/failures.ts) and retryability tell the activity's retry
 * policy what to do.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { sliceChars } from '../../common/limits';
import { FailureType } from '../../common/failures';

/** The server answered with an HTTP error status. */
export class ModelHttpError extends Error {
  constructor(
    readonly status: number,
    /** The body as text (the server's own words). */
    readonly body: string,
    readonly headers: Headers,
    readonly endpoint: string,
  ) {
    super(`${endpoint} answered HTTP ${status}: ${errorText(body)}`);
    this.name = 'ModelHttpError';
  }
}

/**
 * The call did not complete: no answer in time, a stall mid-stream, the connection failed, or the reply ended without
 * saying it was complete (`incomplete`: a stream without a finish reason or `[DONE]`, a finish reason that means the
 * server broke the generation off).
 */
export class ModelTransportError extends Error {
  constructor(
    readonly kind: 'timeout' | 'stalled' | 'network' | 'malformed' | 'incomplete',
    message: string,
  ) {
    super(message);
    this.name = 'ModelTransportError';
  }
}

/** The `error.message` of an OpenAI-style error body, or the body itself (cut). */
export function errorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown; detail?: unknown };
    const error = parsed.error;
    if (typeof error === 'string') return error;
    if (error && typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string') {
      return (error as { message: string }).message;
    }
    if (typeof parsed.message === 'string') return parsed.message;
    if (typeof parsed.detail === 'string') return parsed.detail;
  } catch {
    // not JSON: the text itself
  }
  return body.length > 500 ? `${sliceChars(body, 500)}...` : body;
}

/**
 * A 5xx whose body says the request itself cannot be processed: retrying the same request gets the same answer
 * (llama.cpp's `Failed to parse tool call arguments as JSON` and template errors, vLLM's validation errors, Ollama's
 * `json: cannot unmarshal`), and a prompt over the context window, which the same request overflows every time. Seen
 * answering HTTP 500 where 400 was meant: ggml-org/llama.cpp#25510.
 */
const DETERMINISTIC_5XX =
  /context (?:length|size|window)|exceeds? the (?:available )?context|prompt is too long|too many tokens|failed to parse|parse error|cannot parse|could not parse|unable to parse|json\.exception|cannot unmarshal|invalid (?:request|json|argument|param|message|tool|schema|type)|unprocessable|jinja|template|roles must alternate|validation error|must be (?:a )?string|type must be|is not supported|unsupported (?:param|value|content)|missing required/i;

/** True when a server's 5xx error text describes a request that can never succeed as sent. */
export function isDeterministicServerError(text: string): boolean {
  return DETERMINISTIC_5XX.test(text);
}

/** Milliseconds from `retry-after-ms`, or `retry-after` (seconds or an HTTP date). */
export function retryAfterMs(headers: Headers | undefined): number | undefined {
  const ms = Number(headers?.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const raw = headers?.get('retry-after');
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * A 429 that is not a rate limit but an account with no quota left (OpenAI's `insufficient_quota`, in the error's
 * `code` or `type`): it answers the same until someone adds credit, so waiting and asking again only delays the
 * subtask's end by the whole retry policy. Other providers' quota 429s (Gemini's `RESOURCE_EXHAUSTED`) are per
 * minute, and stay retried.
 */
function isQuotaExhausted(body: string): boolean {
  try {
    const error = (JSON.parse(body) as { error?: { code?: unknown; type?: unknown } }).error;
    return error?.code === 'insufficient_quota' || error?.type === 'insufficient_quota';
  } catch {
    return false;
  }
}

/** The failure the activity throws for an HTTP error. */
export function httpFailure(err: ModelHttpError, hint: string): ApplicationFailure {
  const { status } = err;
  if (status === 429 && isQuotaExhausted(err.body)) {
    return ApplicationFailure.nonRetryable(
      `${err.message} (the account's quota is used up, so retrying cannot help: add credit or raise the limit, or ` +
        'use another key)',
      FailureType.ModelRequestRejected,
    );
  }
  if (status === 429) {
    const delay = retryAfterMs(err.headers);
    return ApplicationFailure.create({
      type: FailureType.ModelRateLimited,
      message: `${err.message} (rate limited; retrying${delay === undefined ? '' : ` after ${delay} ms`})`,
      nextRetryDelay: delay,
    });
  }
  if (status === 408 || status === 409) return ApplicationFailure.retryable(err.message, FailureType.ModelUnavailable);
  if (status >= 500) {
    if (isDeterministicServerError(errorText(err.body))) {
      return ApplicationFailure.nonRetryable(
        `${err.message}. The server cannot process this request as sent (retrying the same request cannot help)`,
        FailureType.ModelRequestRejected,
      );
    }
    // An overloaded server's 503 (vLLM, proxies, OpenAI) may say when to come back, as a 429 does (RFC 9110 §10.2.3):
    // the policy's own backoff would spend attempts on a server that already said it is not ready.
    const delay = retryAfterMs(err.headers);
    return ApplicationFailure.create({
      type: FailureType.ModelUnavailable,
      message: delay === undefined ? err.message : `${err.message} (retrying after ${delay} ms, as the server asked)`,
      nextRetryDelay: delay,
    });
  }
  return ApplicationFailure.nonRetryable(`${err.message}. ${hint}`, FailureType.ModelRequestRejected);
}

/** The failure for a call that did not complete. */
export function transportFailure(err: ModelTransportError): ApplicationFailure {
  if (err.kind === 'malformed') return ApplicationFailure.retryable(err.message, FailureType.ModelMalformedReply);
  if (err.kind === 'stalled') return ApplicationFailure.retryable(err.message, FailureType.ModelStalled);
  if (err.kind === 'incomplete') return ApplicationFailure.retryable(err.message, FailureType.ModelIncompleteReply);
  return ApplicationFailure.retryable(err.message, FailureType.ModelUnavailable);
}
