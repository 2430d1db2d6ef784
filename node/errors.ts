/**
 * tandem's error family on the Node side (worker and CLI), sorted by cause as openai-agents-js sorts its errors:
 * a {@link UserError} is something the person running tandem can fix (a setting, an id, a flag), so the CLI prints its
 * message as one line and exits 1; anything else is a bug or an outage and keeps its stack.
 *
 * Failures that cross the activity or workflow boundary are `ApplicationFailure`s named in common/failures.ts.
 */

/** A problem the user can fix; the message says what is wrong, with the values involved, and what to do. */
export class UserError extends Error {
  override name = 'UserError';
}

/**
 * An id (goal, executor, schedule) the server has no record of. The CLI adds which server and namespace it asked
 * (client/commands/shared.ts): with several clusters or namespaces, "not found" alone sends people to the wrong one.
 */
export class NotFoundError extends UserError {
  override name = 'NotFoundError';
}

/** No workflow with that id; the CLI adds which server and namespace it asked (client/commands/shared.ts). */
export function noGoalWithId(id: string): NotFoundError {
  return new NotFoundError(`no goal with id "${id}"; check the id (tandem start prints it), --address and --namespace`);
}

/** A goal verb that cannot do what was asked of this goal (not a goal, finished, no answer); the message says why. */
export class GoalError extends UserError {
  override name = 'GoalError';
}

/** A setting (environment variable or flag) with a value tandem cannot use. */
export class ConfigError extends UserError {
  override name = 'ConfigError';
  constructor(
    readonly variable: string,
    readonly value: string,
    expected: string,
  ) {
    super(`${variable}=${JSON.stringify(value)} is not ${expected}; fix it, or unset it to use the default`);
  }
}

/**
 * The first line of a cause's message, for a message that goes on after it: the CLI prints only the first line of
 * each message, and a TOML parser's multi-line report would otherwise cut off what to do.
 */
function firstLine(cause: unknown): string {
  return String((cause as Error)?.message ?? cause)
    .split('\n')[0]
    .trim();
}

/** Thrown when no Temporal server answers at the configured address. */
export class TemporalUnreachableError extends UserError {
  override name = 'TemporalUnreachableError';
  constructor(
    readonly address: string,
    cause: unknown,
  ) {
    super(
      `cannot reach Temporal at ${address} (${firstLine(cause)}): start one with "tandem dev", ` +
        'or point TEMPORAL_ADDRESS (or --address, or a TEMPORAL_PROFILE) at your cluster',
    );
  }
}

/** The envconfig profile or file could not be read (a profile that is not there, a malformed TOML file). */
export class ConnectionSettingsError extends UserError {
  override name = 'ConnectionSettingsError';
  constructor(
    readonly profile: string | undefined,
    cause: unknown,
  ) {
    super(
      `cannot read the Temporal connection settings${profile ? ` of profile "${profile}"` : ''} ` +
        `(${firstLine(cause)}): check --profile or TEMPORAL_PROFILE, and TEMPORAL_CONFIG_FILE ` +
        '(default ~/.config/temporalio/temporal.toml)',
    );
  }
}

/**
 * The gRPC status code of an SDK error and the server's own words: the client puts them on the error itself or, when
 * it wraps the call's failure in a `ServiceError` ("Failed to list workflows"), on its cause.
 */
export function grpcStatusOf(err: unknown): { code: number; details: string } | undefined {
  for (let at = err as { code?: unknown; details?: unknown; cause?: unknown } | undefined; at; at = at.cause as never) {
    if (typeof at.code === 'number') {
      return { code: at.code, details: typeof at.details === 'string' ? at.details : String((at as Error).message) };
    }
  }
  return undefined;
}

/**
 * `err`'s message followed by those of its causes that add something ("Failed to start Workflow: 3 INVALID_ARGUMENT:
 * search attribute TandemGoal exceeds size limit"), on one line: the SDK's outer messages rarely say why.
 */
export function messageWithCauses(err: unknown): string {
  const parts: string[] = [];
  for (let at: unknown = err, depth = 0; at !== undefined && at !== null && depth < 8; depth++) {
    const message = at instanceof Error ? at.message : String(at);
    const details = (at as { details?: unknown }).details;
    for (const text of [message, typeof details === 'string' ? details : '']) {
      const line = text.split('\n')[0].trim();
      if (line && !parts.some((part) => part.includes(line))) parts.push(line);
    }
    at = at instanceof Error ? at.cause : undefined;
  }
  return parts.join(': ');
}
