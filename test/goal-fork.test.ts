/** A fork's start over the plain goal state, without a server: what it keeps, what it leaves to run, what it shows. */
import type { ExecutorSeed, ForkOrigin } from '../common/fork';
import type { ExecutorResult } from '../common/types';
import { goalSettings, subtask } from './helpers/goal-state-fixtures';
import { zeroUsage } from '../common/usage';
import { adoptFork } from '../workflows/planner/goal-fork';
import { handOverState } from '../workflows/planner/goal-hand-over';
import { goalProgress } from '../workflows/planner/goal-progress';
import { initialGoalState, pendingWork } from '../workflows/planner/goal-state';
import { progressMarkdown } from '../workflows/planner/progress-details';

const settings = goalSettings('f');
const kept: ExecutorResult = {
  ok: true,
  answer: 'one',
  steps: 3,
  usage: { promptTokens: 30, completionTokens: 3 },
  toolCalls: [],
  evidence: 'one',
};
const seed: ExecutorSeed = {
  from: 'g.v2.s2',
  step: 2,
  transcript: 'sha256:' + 'a'.repeat(64),
  observations: [{ role: 'tool', toolCallId: 'c1', content: 'wrote 3 bytes' }],
  usage: zeroUsage(),
  elapsedMs: 1_000,
  toolCalls: [],
  evidence: [],
};
const plans = [1, 2].map((version) => ({
  version,
  reason: version === 1 ? 'initial plan' : 'replan',
  createdAt: '2026-12-01T00:00:00.000Z',
  subtasks: [subtask('s1'), subtask('s2', ['s1']), subtask('s3')],
}));

function forked(origin: Partial<ForkOrigin> = {}) {
  const state = initialGoalState(0);
  adoptFork(
    { state, settings },
    {
      forkedFrom: { id: 'g', subtask: 's2', step: 3 },
      plans,
      kept: [{ id: 's1', workflowId: 'g.v1.s1', result: kept, verdict: { met: true, reason: 'ok' } }],
      resume: { subtaskId: 's2', seed },
      interrupt: 'fix it',
      ...origin,
    },
  );
  return state;
}

describe('a fork of a goal', () => {
  it('keeps the plan version and files the kept subtask as done, judged, with its steps and tokens', () => {
    const progress = goalProgress(forked(), settings, 0);
    expect(progress.planVersion).toBe(2);
    expect(progress.subtasks.map((entry) => [entry.id, entry.status, entry.workflowId, entry.steps])).toEqual([
      ['s1', 'done', 'g.v1.s1', 3],
      ['s2', 'pending', 'f.v2.s2', 0],
      ['s3', 'pending', 'f.v2.s3', 0],
    ]);
    expect(progress.subtasks[0].verdict).toEqual({ met: true, reason: 'ok' });
    expect(progress.usage).toEqual({ promptTokens: 30, completionTokens: 3 });
    // Nothing waits to be judged: the kept run is settled.
    expect(pendingWork(forked()).returnedRuns).toBe(false);
  });

  it('holds the seed and the interrupt for the resumed subtask, and both survive a hand-over', () => {
    const state = handOverState(forked());
    expect(state.seeds).toEqual({ s2: seed });
    expect(state.queuedInterrupts).toEqual({ s2: ['fix it'] });
    expect(state.forkedFrom).toEqual({ id: 'g', subtask: 's2', step: 3 });
  });

  it("queues a plan-version fork's interrupt for whichever subtasks start first", () => {
    const state = forked({ forkedFrom: { id: 'g', planVersion: 2 }, resume: undefined, kept: [] });
    expect(state.seeds).toBeUndefined();
    expect(state.queuedInterrupts).toEqual({ '*': ['fix it'] });
  });

  it('names its origin in progress and in the Web UI details', () => {
    const progress = goalProgress(forked(), settings, 0);
    expect(progress.forkedFrom).toEqual({ id: 'g', subtask: 's2', step: 3 });
    expect(progressMarkdown(progress)).toContain('\n\nforked from g at s2 step 3\n');
  });
});
