import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  ChildWorkflowFailure,
  RetryState,
} from '@temporalio/common';
import { endedCancelled, resultInFailure } from '../common/endings';
import { endingOf, endingOfStatus } from '../common/ending-words';
import { failureMessage } from '../workflows/ending';

describe('one vocabulary of endings (docs/endings.md)', () => {
  it.each([
    [{ ok: true }, 'completed'],
    [{ ok: false, reason: 'replans_exhausted' }, 'failed (replans_exhausted)'],
    [{ ok: false, reason: 'budget_exhausted' }, 'failed (budget_exhausted)'],
    [{ ok: false, reason: 'plan_invalid' }, 'failed (plan_invalid)'],
    [{ ok: false, reason: 'cancelled' }, 'cancelled'],
    [{ ok: false, reason: 'budget' }, 'failed (budget)'],
    [{ ok: false, reason: 'escalated' }, 'failed (escalated)'],
    [{ ok: false, reason: 'model_error' }, 'failed (model_error)'],
    [{ ok: false }, 'failed'],
  ])('names the result %j "%s"', (result, ending) => {
    expect(endingOf(result)).toBe(ending);
  });

  it.each([
    ['FAILED', 'failed'],
    ['CANCELLED', 'cancelled'],
    ['CANCELED', 'cancelled'],
    ['TERMINATED', 'terminated'],
    ['TIMED_OUT', 'timed_out'],
  ])("names a run Temporal closed as %s without tandem's result %s", (status, ending) => {
    expect(endingOfStatus(status)).toBe(ending);
  });
});

describe('the result a failed run carries', () => {
  const result = { ok: false, reason: 'budget', answer: null };
  const child = (cause: Error) =>
    new ChildWorkflowFailure(
      'default',
      { workflowId: 'g.v1.s1' },
      'executorWorkflow',
      RetryState.NON_RETRYABLE_FAILURE,
      cause,
    );

  it("is read from a SubtaskNotOk or GoalNotOk anywhere down the cause chain, a child's failure too", () => {
    for (const type of ['SubtaskNotOk', 'GoalNotOk']) {
      const failure = ApplicationFailure.create({ type, message: 'ended', nonRetryable: true, details: [result] });
      expect(resultInFailure(failure)).toEqual(result);
      expect(resultInFailure(child(failure))).toEqual(result);
    }
  });

  it('is none for any other failure type, or a cancellation (whose result is in the memo)', () => {
    const other = ApplicationFailure.create({ type: 'InvalidGoal', message: 'bad', details: [result] });
    expect(resultInFailure(child(other))).toBeUndefined();
    expect(resultInFailure(new Error('plain'))).toBeUndefined();
    expect(resultInFailure(child(new CancelledFailure('cancelled')))).toBeUndefined();
    expect(endedCancelled(child(new CancelledFailure('cancelled')))).toBe(true);
    expect(endedCancelled(child(other))).toBe(false);
  });

  it("says which activity failed and the endpoint's words, not just 'Activity task failed'", () => {
    const root = ApplicationFailure.create({ type: 'ModelRequestRejected', message: 'HTTP 401: bad key' });
    const activity = new ActivityFailure(
      'Activity task failed',
      'callModel',
      '1',
      RetryState.NON_RETRYABLE_FAILURE,
      'w',
      root,
    );
    expect(failureMessage(activity)).toBe('callModel failed: HTTP 401: bad key [ModelRequestRejected]');
    expect(failureMessage(new Error('plain'))).toBe('plain');
  });
});
