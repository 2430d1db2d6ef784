import { callFingerprints, type DeniedCall, earlierDenial } from '../common/denials';
import type { ExecutorResult, Subtask } from '../common/types';
import { goalSettings, subtask } from './helpers/goal-state-fixtures';
import { zeroUsage } from '../common/usage';
import { recordHeld } from '../workflows/planner/approvals';
import { handOverState } from '../workflows/planner/goal-hand-over';
import { goalProgress } from '../workflows/planner/goal-progress';
import {
  interruptArrived,
  interruptsBounced,
  interruptsClosed,
  interruptsHandedOver,
} from '../workflows/planner/interrupts';
import { progressMarkdown } from '../workflows/planner/progress-details';
import {
  canDispatch,
  canHandOver,
  cancelDecided,
  cancelsToSend,
  type GoalState,
  hasPendingWork,
  initialGoalState,
  pendingWork,
  runDispatched,
  runReturned,
  runSettled,
  runStarted,
  stepReported,
} from '../workflows/planner/goal-state';

const settings = goalSettings('g');

const result = (steps: number): ExecutorResult => ({
  ok: true,
  answer: 'done',
  steps,
  usage: { ...zeroUsage(), promptTokens: 10 },
  toolCalls: [],
  evidence: 'done',
});

/** A goal planned with the given subtasks, none started. */
function planned(...subtasks: Subtask[]): GoalState {
  const state = initialGoalState(0);
  state.status = 'running';
  state.plans.push({ version: 1, reason: 'initial plan', createdAt: '2026-12-01T00:00:00.000Z', subtasks });
  state.entries = subtasks.map((s) => ({ subtask: s, status: 'pending', workflowId: `g.v1.${s.id}` }));
  return state;
}

describe('goal state', () => {
  it('is plain data: a JSON round trip (what continue-as-new does) gives the same state', () => {
    const state = planned(subtask('s1'));
    const run = runDispatched(state, state.entries[0]);
    runStarted(run);
    stepReported(run, 3, zeroUsage());
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });

  it('moves a child run one way only: starting, running, returned, settled', () => {
    const state = planned(subtask('s1'));
    const run = runDispatched(state, state.entries[0]);
    expect(run.phase).toBe('starting');
    runStarted(run);
    expect(run.phase).toBe('running');
    runReturned(run, result(4));
    expect(run).toMatchObject({ phase: 'returned', steps: 4 });
    // A second copy of the result (signal and completion both arrive) and a late step report change nothing.
    runReturned(run, result(9));
    stepReported(run, 7, zeroUsage());
    runStarted(run);
    expect(run).toMatchObject({ phase: 'returned', steps: 4 });
    runSettled(run);
    expect(run.phase).toBe('settled');
  });

  it('sends a cancel decided while the child was starting once it has started, and only once', () => {
    const state = planned(subtask('s1'));
    const run = runDispatched(state, state.entries[0]);
    cancelDecided(run, 'plan v2 dropped s1');
    expect(cancelsToSend(state)).toEqual([]);
    runStarted(run);
    expect(cancelsToSend(state)).toEqual([run]);
    expect(pendingWork(state).cancels).toBe(true);
    run.cancelSent = true;
    expect(pendingWork(state).cancels).toBe(false);
  });

  it('answers "is there work?" from one predicate, for every inbox', () => {
    const state = planned(subtask('s1'));
    expect(hasPendingWork(pendingWork(state))).toBe(false);
    const cases: Array<[keyof ReturnType<typeof pendingWork>, (s: GoalState) => void]> = [
      ['pause', (s) => (s.paused = true)],
      ['interrupts', (s) => s.interruptInbox.push({ message: 'hi' })],
      ['cancelRequests', (s) => s.cancelInbox.push({ subtaskId: 's1', reason: 'no' })],
      ['replans', (s) => s.replanInbox.push({ evidence: 'e', automatic: false, ticket: 1 })],
      ['approvalsShown', (s) => (s.approvals.version += 1)],
      ['returnedRuns', (s) => runReturned(runDispatched(s, s.entries[0]), result(1))],
    ];
    for (const [kind, arrive] of cases) {
      const copy = structuredClone(state);
      arrive(copy);
      const work = pendingWork(copy);
      expect({ kind, pending: work[kind], any: hasPendingWork(work), handOver: canHandOver(copy, true) }).toEqual({
        kind,
        pending: true,
        any: true,
        handOver: false,
      });
    }
  });

  it('hands over only with nothing pending, no child starting and no update in flight', () => {
    const state = planned(subtask('s1'));
    expect(canHandOver(state, true)).toBe(true);
    expect(canHandOver(state, false)).toBe(false);
    const run = runDispatched(state, state.entries[0]);
    expect(canHandOver(state, true)).toBe(false);
    runStarted(run);
    expect(canHandOver(state, true)).toBe(true);
  });

  it('carries running children and folds settled ones into what was spent', () => {
    const state = planned(subtask('s1'), subtask('s2'));
    const done = runDispatched(state, state.entries[0]);
    runStarted(done);
    runReturned(done, result(5));
    runSettled(done);
    const running = runDispatched(state, state.entries[1]);
    runStarted(running);
    stepReported(running, 2, zeroUsage());
    const next = handOverState(state);
    expect(next.runs).toEqual([running]);
    expect(next.spent.steps).toBe(5);
    expect(goalProgress(next, settings, 0).budget.used.steps).toBe(goalProgress(state, settings, 0).budget.used.steps);
  });

  it('dispatches only while not paused, below maxParallel, with a ready subtask', () => {
    const state = planned(subtask('s1'), subtask('s2', ['s1']));
    expect(canDispatch(state, settings, 0)).toBe(true);
    state.paused = true;
    expect(canDispatch(state, settings, 0)).toBe(false);
    state.paused = false;
    runDispatched(state, state.entries[0]);
    // s2 waits for s1.
    expect(canDispatch(state, settings, 0)).toBe(false);
  });

  it('says "no plan yet" and no replans (not plan v0, replans -1) for a goal that has not adopted a plan', () => {
    const progress = goalProgress(initialGoalState(0), settings, 0);
    expect({ planVersion: progress.planVersion, replans: progress.replans }).toEqual({ planVersion: 0, replans: 0 });
    const details = progressMarkdown(progress);
    expect(details).toContain('no plan yet');
    expect(details).not.toMatch(/plan v0|replans -1/);
  });
});

describe('what the goal state keeps so nothing is lost in silence', () => {
  const denial = (overrides: Partial<DeniedCall> = {}): DeniedCall => ({
    callId: 'v1.s1:1:call_1_0',
    subtaskId: 's1',
    tool: 'write_file',
    arguments: '{"path":"ok.txt","content":"x"}',
    ...callFingerprints({ arguments: '{"path":"ok.txt","content":"x"}' }, subtask('s1')),
    outcome: 'denied',
    by: 'alice',
    reason: 'NOPE',
    at: '2026-12-01T00:00:00.000Z',
    ...overrides,
  });

  it('remembers a denial an executor reports, and carries it across continue-as-new', () => {
    const state = planned(subtask('s1'));
    recordHeld(state.approvals, {
      subtaskId: 's1',
      workflowId: 'g.v1.s1',
      pending: [],
      released: { callId: 'v1.s1:1:call_1_0', outcome: 'denied', reason: 'NOPE', denial: denial() },
    });
    recordHeld(state.approvals, {
      subtaskId: 's1',
      workflowId: 'g.v2.s1',
      pending: [],
      released: { callId: 'v2.s1:1:call_1_0', outcome: 'refused', reason: 'an identical call was denied' },
    });
    const carried = JSON.parse(JSON.stringify(handOverState(state))) as GoalState;
    expect(carried.approvals.denials).toEqual([denial()]);
    expect(goalProgress(carried, settings, 0).refusedRepeatCalls).toBe(1);
  });

  it('tells an identical call (arguments in any key order, same subtask text) from a changed one', () => {
    const memory = [denial()];
    const same = callFingerprints({ arguments: '{"content":"x","path":"ok.txt"}' }, subtask('s1'));
    expect(earlierDenial(memory, 'write_file', same)).toEqual({ kind: 'identical', denial: denial() });
    const otherArgs = callFingerprints({ arguments: '{"path":"notes/ok.txt","content":"x"}' }, subtask('s1'));
    expect(earlierDenial(memory, 'write_file', otherArgs)).toEqual({
      kind: 'similar',
      prior: expect.objectContaining({ callId: 'v1.s1:1:call_1_0', reason: 'NOPE', changed: ['arguments'] }),
    });
    const otherText = callFingerprints(
      { arguments: '{"path":"ok.txt","content":"x"}' },
      { ...subtask('s1'), instructions: 'Write ok.txt in notes/.' },
    );
    expect(earlierDenial(memory, 'write_file', otherText)).toEqual({
      kind: 'similar',
      prior: expect.objectContaining({ changed: ['subtask'] }),
    });
    expect(earlierDenial(memory, 'read_file', same)).toBeUndefined();
  });

  it('counts the interrupts a run was handed and never showed its model as undelivered, once', () => {
    const state = planned(subtask('s1'));
    const run = runDispatched(state, state.entries[0]);
    runStarted(run);
    run.interruptsSent = 3;
    expect(runReturned(run, { ...result(2), interruptsShown: 1 })).toBe(2);
    // The completion's copy of the same result changes nothing.
    expect(runReturned(run, { ...result(2), interruptsShown: 1 })).toBe(0);
  });

  it('counts a batch in flight when the result comes first: shown or undelivered, never neither', () => {
    const state = planned(subtask('s1'));
    const run = runDispatched(state, state.entries[0]);
    runStarted(run);
    // The signal is issued; before it resolves, the result arrives (its model saw one of the two).
    interruptsHandedOver(run, 2);
    expect(runReturned(run, { ...result(2), interruptsShown: 1 })).toBe(1);
    // The signal then fails (the run had closed): the result already counted them.
    expect(interruptsBounced(run, 2)).toBe(0);
  });

  it('counts a bounced batch of a run whose result has not come, and not again when it comes', () => {
    const state = planned(subtask('s1'));
    const run = runDispatched(state, state.entries[0]);
    runStarted(run);
    interruptsHandedOver(run, 2);
    expect(interruptsBounced(run, 2)).toBe(2);
    expect(runReturned(run, { ...result(2), interruptsShown: 0 })).toBe(0);
  });

  it('counts the interrupts held for a start that never came, and those of a run that returned no result', () => {
    const state = planned(subtask('s1'));
    const run = runDispatched(state, state.entries[0]);
    run.heldInterrupts = ['a', 'b'];
    run.interruptsSent = 1;
    expect(runReturned(run, result(0))).toBe(3);
  });

  it('counts what waits when the goal stops taking interrupts, and each one after as it comes', () => {
    const state = planned(subtask('s1'), subtask('s2', ['s1']));
    expect(interruptArrived(state, { message: 'now', subtaskId: 's1' })).toBe(true);
    state.queuedInterrupts = { s2: ['later'], '*': ['any'] };
    state.status = 'reporting';
    interruptsClosed(state);
    expect(state.undelivered).toBe(3);
    expect(goalProgress(state, settings, 0).queuedInterrupts).toBe(0);
    expect(interruptArrived(state, { message: 'too late' })).toBe(false);
    expect(state.undelivered).toBe(4);
    expect(pendingWork(state).interrupts).toBe(false);
  });
});
