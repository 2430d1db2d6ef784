import type { MilestoneCheck } from '../common/checks';
import type { Subtask } from '../common/types';
import { repairChecksFromGoal } from '../workflows/planner/check-repair';
import { MODEL_CALLS_PER_SUBTASK, raiseForServer } from '../workflows/planner/goal-budget';

const subtask = (checks?: MilestoneCheck[], budget?: Subtask['budget']): Subtask => ({
  id: 's1',
  title: 'Save',
  instructions: 'Save it.',
  milestone: 'saved',
  dependsOn: [],
  ...(checks ? { checks } : {}),
  ...(budget ? { budget } : {}),
});
const repaired = (goal: string, checks: MilestoneCheck[]) => repairChecksFromGoal([subtask(checks)], goal);

describe("a check's expected value comes from the goal's words or from code", () => {
  const arithmetic = 'Compute 17 * 23 + 4 and save the result to answer.txt';

  it('turns a number the goal does not write into the value of its expression', () => {
    const { subtasks, repairs } = repaired(arithmetic, [{ kind: 'file', file: 'answer.txt', contains: '405' }]);
    expect(subtasks[0].checks).toEqual([{ kind: 'value', file: 'answer.txt', expression: '17*23+4' }]);
    expect(repairs).toHaveLength(1);
  });

  it('turns even a right number into the value check, and an operand too: only code computes', () => {
    for (const contains of ['395', '23', '３９５']) {
      expect(repaired(arithmetic, [{ kind: 'file', file: 'answer.txt', contains }]).subtasks[0].checks).toEqual([
        { kind: 'value', file: 'answer.txt', expression: '17*23+4' },
      ]);
    }
  });

  it('keeps text the goal writes, and drops text it does not to a check that the file exists', () => {
    const goal = 'Write "hello world" to greeting.txt';
    expect(repaired(goal, [{ kind: 'file', file: 'greeting.txt', contains: 'hello world' }]).repairs).toEqual([]);
    const { subtasks, repairs } = repaired(goal, [{ kind: 'file', file: 'greeting.txt', contains: 'Hello, World!' }]);
    expect(subtasks[0].checks).toEqual([{ kind: 'file', file: 'greeting.txt' }]);
    expect(repairs[0]).toMatch(/it now checks only that greeting\.txt exists$/);
  });

  it('drops a planner number when the goal writes no arithmetic (its words are not its value)', () => {
    const goal = 'Multiply seventeen by twenty-three and save it to answer.txt';
    expect(repaired(goal, [{ kind: 'file', file: 'answer.txt', contains: '321' }]).subtasks[0].checks).toEqual([
      { kind: 'file', file: 'answer.txt' },
    ]);
  });

  it("keeps a value check on the goal's expression, however spaced, and replaces any other", () => {
    expect(repaired(arithmetic, [{ kind: 'value', file: 'answer.txt', expression: '17*23 + 4' }]).repairs).toEqual([]);
    const { subtasks } = repaired(arithmetic, [{ kind: 'value', file: 'answer.txt', expression: '17*24+4' }]);
    expect(subtasks[0].checks).toEqual([{ kind: 'value', file: 'answer.txt', expression: '17*23+4' }]);
    const two = 'Compute 1+1 and 2+2 into a.txt';
    expect(repaired(two, [{ kind: 'value', file: 'a.txt', expression: '3+3' }]).subtasks[0].checks).toEqual([
      { kind: 'file', file: 'a.txt' },
    ]);
  });
});

describe('time budgets the server can meet', () => {
  it(`raises maxSeconds below ${MODEL_CALLS_PER_SUBTASK} of the slowest calls seen, and records it`, () => {
    const { subtasks, repairs } = raiseForServer([subtask(undefined, { maxSeconds: 10, maxSteps: 5 })], 6_200);
    expect(subtasks[0].budget).toEqual({ maxSeconds: 25, maxSteps: 5 });
    expect(repairs).toEqual([
      'budget.maxSeconds of subtask "s1" raised from 10 to 25: a model call of this goal took 6.2 s on this server, ' +
        'and a subtask needs room for 4',
    ]);
  });

  it('leaves an unlimited budget, one that is enough, and every budget before any call was timed', () => {
    expect(raiseForServer([subtask()], 60_000).repairs).toEqual([]);
    expect(raiseForServer([subtask(undefined, { maxSeconds: 300 })], 60_000).repairs).toEqual([]);
    expect(raiseForServer([subtask(undefined, { maxSeconds: 10 })], 0).repairs).toEqual([]);
  });
});
