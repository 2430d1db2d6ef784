/** A deadline on workflow-clock time around any awaitable work, such as an LLM activity. */
import { CancellationScope, isCancellation, sleep } from '@temporalio/workflow';

/** Returned by {@link beforeDeadline} when the deadline came first. */
export const DEADLINE_PASSED = Symbol('deadline passed');

/**
 * Runs `work` in its own cancellable scope and races it against a durable timer of `ms` (no timer when undefined).
 * When the timer fires first the scope is cancelled, so an in-flight activity is cancelled (delivered on its next
 * heartbeat) instead of overrunning the deadline by its own, much longer, timeout. A cancellation from outside (the
 * workflow itself cancelled) still propagates as a CancelledFailure.
 */
export async function beforeDeadline<T>(
  ms: number | undefined,
  work: () => Promise<T>,
): Promise<T | typeof DEADLINE_PASSED> {
  if (ms === undefined) return work();
  const scope = new CancellationScope();
  const timerScope = new CancellationScope();
  let passed = false;
  // The timer's own cancellation (work finished first, or the workflow was cancelled) is expected: swallow it.
  const timer = timerScope
    .run(() => sleep(ms))
    .then(
      () => {
        passed = true;
        scope.cancel();
      },
      () => undefined,
    );
  try {
    return await scope.run(work);
  } catch (err) {
    if (passed && isCancellation(err)) return DEADLINE_PASSED;
    throw err;
  } finally {
    timerScope.cancel();
    await timer;
  }
}
