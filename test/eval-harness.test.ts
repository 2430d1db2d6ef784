/**
 * The eval's per-goal harness (test/eval/harness.ts) with the scripted model: the cap that bounds `npm run eval` in
 * CI, what happens to a goal past it, and the classes its table counts.
 */
import { match, reply } from '../dev/scripted-model';
import type { EvalGoal } from './eval/goals';
import { runGoal } from './eval/harness';
import { startTandem, type Tandem } from './helpers/tandem';

const plan = reply.json({
  subtasks: [{ id: 's1', title: 'Say it', instructions: 'Say hello.', milestone: 'hello is said', dependsOn: [] }],
});
const goal = (name: string, done: EvalGoal['done']): EvalGoal => ({ name, kind: 'test', goal: 'Say hello', done });

describe('the eval harness', () => {
  let tandem: Tandem;

  beforeEach(async () => {
    tandem = await startTandem();
    tandem.model.on(match.purpose('plan'), plan, { repeatLast: true });
    tandem.model.on(match.purpose('judge'), reply.json({ met: true, reason: 'hello was said' }), { repeatLast: true });
    tandem.model.on(match.purpose('report'), reply.text('Report.'), { repeatLast: true });
  });
  afterEach(async () => {
    await tandem.stop();
  });

  const running = async () => {
    const ids: string[] = [];
    const query = `TaskQueue = '${tandem.taskQueue}' AND ExecutionStatus = 'Running'`;
    for await (const execution of tandem.client.workflow.list({ query })) ids.push(execution.workflowId);
    return ids;
  };

  it('counts a goal past its cap as stuck, and terminates it and the executor it abandoned', async () => {
    tandem.model.on(match.purpose('step'), reply.hang(), { repeatLast: true });
    const started = Date.now();
    const row = await runGoal(
      tandem,
      goal('hangs', async () => true),
      { deadlineSeconds: 60, capSeconds: 4 },
    );

    expect(row).toEqual(
      expect.objectContaining({ name: 'hangs', outcome: 'stuck', ended: 'not ended 4 s after its start' }),
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await running()).toEqual([]);
    for (const id of [row.goalId, `${row.goalId}.v1.s1`]) {
      expect((await tandem.client.workflow.getHandle(id).describe()).status.name).toBe('TERMINATED');
    }
  });

  it('counts an ok goal as ok only when the workspace shows the work, and as a false ok when it does not', async () => {
    tandem.model.on(match.purpose('step'), reply.text('hello'), { repeatLast: true });
    const times = { deadlineSeconds: 60, capSeconds: 60 };

    expect(
      await runGoal(
        tandem,
        goal('done', async () => true),
        times,
      ),
    ).toEqual(expect.objectContaining({ outcome: 'ok', ended: 'ok' }));
    expect(
      await runGoal(
        tandem,
        goal('not-done', async () => false),
        times,
      ),
    ).toEqual(expect.objectContaining({ outcome: 'falseOk', ended: 'ok, but the workspace says otherwise' }));
  });
});
