/** How a closed run ended, as `status --json`'s `end` gives it; shared by the gRPC and HTTP readers. */
import type { FailureSummary } from './goals';

/**
 * How a closed run ended, as a union: an ok result, a not-ok result and its `reason` (`budget_exhausted`,
 * `model_error`, ...), or no result of tandem's and the `failure` Temporal recorded. The fields the other variants
 * lack are `null`, as the JSON has always had them.
 */
export type RunEnd =
  | { ok: true; reason: null; failure: null }
  | { ok: false; reason: string; failure: null }
  | { ok: false; reason: null; failure: FailureSummary };

/** The end of a run that returned (or failed with) a result of tandem's. */
export function endOfResult(result: { ok: boolean; reason?: string }): RunEnd {
  if (result.ok) return { ok: true, reason: null, failure: null };
  // Every not-ok result of tandem's names its reason (common/types.ts); a value without one is not tandem's.
  return { ok: false, reason: result.reason ?? 'unknown', failure: null };
}

/** The end of a run that left no result of tandem's, only Temporal's failure. */
export function endOfFailure(failure: FailureSummary): RunEnd {
  return { ok: false, reason: null, failure };
}
