import type { Subtask } from '../common/types';
import { reconcile } from '../workflows/planner/reconcile';

const subtask = (id: string, instructions = `do ${id}`): Subtask => ({
  id,
  title: id,
  instructions,
  milestone: `${id} done`,
  dependsOn: [],
});

describe('reconciliation of a new plan with the work in flight', () => {
  it('keeps done work, keeps unchanged running work, cancels dropped or changed running work', () => {
    const current = [
      { subtask: subtask('done'), status: 'done' as const },
      { subtask: subtask('same'), status: 'running' as const },
      { subtask: subtask('changed'), status: 'running' as const },
      { subtask: subtask('dropped'), status: 'running' as const },
      { subtask: subtask('failed'), status: 'failed' as const },
    ];
    const next = [
      { ...subtask('done', 'new words'), title: 'renamed' },
      { ...subtask('same'), title: 'renamed too' },
      subtask('changed', 'different work'),
      subtask('failed'),
      subtask('new'),
    ];
    expect(reconcile(current, next)).toEqual({
      keepDone: ['done'],
      keepRunning: ['same'],
      cancel: ['changed', 'dropped'],
      pending: ['changed', 'failed', 'new'],
    });
  });
});
