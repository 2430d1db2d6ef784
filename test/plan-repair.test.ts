import { MIN_SUBTASK_STEPS, MIN_SUBTASK_TOKENS, type Subtask } from '../common/types';
import { checkPlan, fallbackPlan, planJsonSchema } from '../workflows/planner/plan';
import { BUDGET_CEILINGS } from '../workflows/planner/plan-repair-fields';
import { readVerdict } from '../workflows/planner/verdict';

/** A valid subtask as a model would write it (no defaults filled in). */
const draft = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  title: `Do ${id}`,
  instructions: `Instructions of ${id}.`,
  milestone: `${id} is answered`,
  ...extra,
});
const planText = (...subtasks: unknown[]) => JSON.stringify({ subtasks });

function accepted(content: string | null): { subtasks: Subtask[]; repairs: string[] } {
  const check = checkPlan(content);
  if (!check.ok) throw new Error(`expected the plan to be accepted, got: ${check.errors.join('; ')}`);
  return check;
}

function refused(content: string | null, finishReason?: string): { errors: string[]; cutOff: boolean } {
  const check = checkPlan(content, finishReason);
  if (check.ok) throw new Error(`expected the plan to be refused, got: ${JSON.stringify(check.subtasks)}`);
  return check;
}

describe('plan validation repairs what it can without guessing', () => {
  it('accepts a valid plan as it is, with no repairs', () => {
    expect(accepted(planText(draft('s1'), draft('s2', { dependsOn: ['s1'] })))).toEqual({
      ok: true,
      subtasks: [expect.objectContaining({ id: 's1', dependsOn: [] }), expect.objectContaining({ id: 's2' })],
      repairs: [],
    });
  });

  it('reads JSON out of a code fence', () => {
    const { subtasks, repairs } = accepted('```json\n' + planText(draft('s1')) + '\n```');
    expect(subtasks.map((subtask) => subtask.id)).toEqual(['s1']);
    expect(repairs).toEqual(['the JSON was inside a ``` code fence']);
  });

  it('drops prose around the JSON', () => {
    const { repairs } = accepted(`Sure! Here is the plan:\n${planText(draft('s1'))}\nLet me know if it helps.`);
    expect(repairs).toEqual(['prose around the JSON was dropped']);
  });

  it('refuses a reply with two JSON values: which one is the plan cannot be told', () => {
    expect(refused(`First ${planText(draft('s1'))} or maybe ${planText(draft('s2'))}`).errors).toEqual([
      expect.stringContaining('more than one JSON value'),
    ]);
  });

  it('removes trailing commas, and leaves commas inside strings alone', () => {
    const { subtasks, repairs } = accepted(
      '{"subtasks": [{"id": "s1", "title": "a, b,]", "instructions": "I", "milestone": "M",},],}',
    );
    expect(subtasks[0].title).toBe('a, b,]');
    expect(repairs).toEqual(['3 trailing comma(s) removed']);
  });

  it('reads single-quoted strings, keeping apostrophes and double quotes inside them', () => {
    const { subtasks, repairs } = accepted(
      `{'subtasks': [{'id': 's1', 'title': "Don't stop", 'instructions': 'Say "hi"', 'milestone': 'It\\'s said'}]}`,
    );
    expect(subtasks[0]).toEqual(
      expect.objectContaining({ title: "Don't stop", instructions: 'Say "hi"', milestone: "It's said" }),
    );
    expect(repairs).toEqual([expect.stringMatching(/single-quoted string\(s\) read as JSON strings/)]);
  });

  it('reads a bare list of subtasks as the plan', () => {
    const { repairs } = accepted(JSON.stringify([draft('s1')]));
    expect(repairs).toEqual(['a bare list of subtasks was read as {"subtasks": [...]}']);
  });

  it('drops extra fields and reads snake_case fields as their camelCase names', () => {
    const { subtasks, repairs } = accepted(
      JSON.stringify({
        reasoning: 'first s1, then s2',
        subtasks: [draft('s1', { notes: 'x' }), draft('s2', { depends_on: ['s1'], budget: { max_steps: 5 } })],
      }),
    );
    expect(subtasks[1]).toEqual(expect.objectContaining({ dependsOn: ['s1'], budget: { maxSteps: 5 } }));
    expect(subtasks[0]).not.toHaveProperty('notes');
    expect(repairs).toEqual([
      'unknown field "reasoning" of the plan dropped',
      'unknown field "notes" of subtask "s1" dropped',
      'field "depends_on" of subtask "s2" read as "dependsOn"',
      'field "max_steps" of the budget of subtask "s2" read as "maxSteps"',
    ]);
  });

  it('repairs wrong types that have one meaning: numeric ids, one value for a list, numbers as strings, null', () => {
    const { subtasks, repairs } = accepted(
      planText(
        draft('1' as string, { id: 1, dependsOn: null }),
        draft('2', { id: 2, dependsOn: 1, tools: 'calculator', budget: { maxSteps: '5' } }),
      ),
    );
    expect(subtasks.map(({ id, dependsOn, tools, budget }) => ({ id, dependsOn, tools, budget }))).toEqual([
      { id: '1', dependsOn: [], tools: undefined, budget: undefined },
      { id: '2', dependsOn: ['1'], tools: ['calculator'], budget: { maxSteps: 5 } },
    ]);
    expect(repairs).toEqual([
      'id 1 of subtask "1" read as the string "1"',
      'dependsOn of subtask "1" was null; read as absent',
      'id 2 of subtask "2" read as the string "2"',
      'dependsOn of subtask "2" was one value, not a list; read as ["1"]',
      'tools of subtask "2" was one value, not a list; read as ["calculator"]',
    ]);
  });

  it('gives duplicate ids that no dependency names fresh ids', () => {
    const { subtasks, repairs } = accepted(planText(draft('s1'), draft('s1', { title: 'Other' }), draft('s2')));
    expect(subtasks.map((subtask) => subtask.id)).toEqual(['s1', 's1-2', 's2']);
    expect(repairs).toEqual(['duplicate subtask id "s1" (no subtask depends on it): this copy is now "s1-2"']);
  });

  it('lists a subtask repeated word for word once, even when a dependency names it', () => {
    const { subtasks, repairs } = accepted(planText(draft('s1'), draft('s1'), draft('s2', { dependsOn: ['s1'] })));
    expect(subtasks.map((subtask) => subtask.id)).toEqual(['s1', 's2']);
    expect(repairs).toEqual(['subtask "s1" was listed twice, word for word; listed once']);
  });

  it('refuses different duplicates a dependency names: which one is meant cannot be told', () => {
    const { errors } = refused(
      planText(draft('s1'), draft('s1', { title: 'Other' }), draft('s2', { dependsOn: ['s1'] })),
    );
    expect(errors).toEqual([expect.stringMatching(/^duplicate subtask id "s1" \(s2 depends on it/)]);
  });

  it('lists a tool named twice once, and reads "tools": [] as all tools', () => {
    const { subtasks, repairs } = accepted(
      planText(
        draft('s1', { tools: ['list_files', 'list_files', 'list_files', 'list_files'] }),
        draft('s2', { tools: [] }),
      ),
    );
    expect(subtasks[0].tools).toEqual(['list_files']);
    expect(subtasks[1]).not.toHaveProperty('tools');
    expect(repairs).toEqual([
      'tools of subtask "s1" listed an entry twice; listed once',
      'tools of subtask "s2" was []: all tools are offered',
    ]);
  });

  it('raises budgets below the documented floors to them', () => {
    const { subtasks, repairs } = accepted(planText(draft('s1', { budget: { maxSteps: 1, maxTokens: 4 } })));
    expect(subtasks[0].budget).toEqual({ maxSteps: MIN_SUBTASK_STEPS, maxTokens: MIN_SUBTASK_TOKENS });
    expect(repairs).toEqual([
      `budget.maxSteps of subtask "s1" raised from 1 to the floor ${MIN_SUBTASK_STEPS}`,
      `budget.maxTokens of subtask "s1" raised from 4 to the floor ${MIN_SUBTASK_TOKENS}`,
    ]);
  });

  it('drops a dependency of a subtask on itself', () => {
    const { subtasks, repairs } = accepted(planText(draft('s1', { dependsOn: ['s1'] })));
    expect(subtasks[0].dependsOn).toEqual([]);
    expect(repairs).toEqual(['subtask "s1" depended on itself; that dependency was dropped']);
  });

  it('refuses dangling dependencies and cycles, each error once', () => {
    expect(
      refused(
        planText(
          draft('s1', { dependsOn: ['compute17 * 23 + 4'] }),
          draft('s2', { dependsOn: ['compute17 * 23 + 4'] }),
        ),
      ).errors,
    ).toEqual([
      'subtask "s1" depends on unknown subtask "compute17 * 23 + 4"',
      'subtask "s2" depends on unknown subtask "compute17 * 23 + 4"',
    ]);
    expect(refused(planText(draft('s1', { dependsOn: ['s2'] }), draft('s2', { dependsOn: ['s1'] }))).errors).toEqual([
      'dependency cycle: s1 → s2 → s1',
    ]);
    const missing = refused(planText({ id: 's1' }, { id: 's2' })).errors;
    expect(missing).toEqual([...new Set(missing)]);
  });

  it('names a reply cut off by the length limit as cut off, not as "not JSON"', () => {
    const check = refused('{"subtasks": [{"id": "s1", "title": "Comp', 'length');
    expect(check.cutOff).toBe(true);
    expect(check.errors).toEqual([expect.stringMatching(/^the plan was cut off by the length limit after \d+ char/)]);
    expect(check.errors[0]).not.toMatch(/not JSON/);
  });

  it('reads a file check with or without its kind', () => {
    const { subtasks } = accepted(
      planText(draft('s1', { checks: [{ file: 'a.txt' }, { kind: 'file', file: 'b.txt', contains: '395' }] })),
    );
    expect(subtasks[0].checks).toEqual([
      { kind: 'file', file: 'a.txt' },
      { kind: 'file', file: 'b.txt', contains: '395' },
    ]);
  });

  it('reads ids with capitals, spaces or dots as the ids they spell, and the dependencies on them', () => {
    const { subtasks, repairs } = accepted(
      planText(draft('Step 1'), draft('S.2', { dependsOn: ['Step 1'] }), draft('s3', { dependsOn: ['s.2'] })),
    );
    expect(subtasks.map((s) => [s.id, s.dependsOn])).toEqual([
      ['step-1', []],
      ['s-2', ['step-1']],
      ['s3', ['s-2']],
    ]);
    expect(repairs).toEqual([
      'id "Step 1" read as "step-1"',
      'id "S.2" read as "s-2"',
      'dependency "s.2" of subtask "s3" read as "s-2"',
    ]);
    expect(accepted(planText(draft('s1'), draft('s2', { dependsOn: ['S1'] }))).subtasks[1].dependsOn).toEqual(['s1']);
  });

  it('cuts an id over 32 characters, and refuses ids that would spell the same one', () => {
    expect(accepted(planText(draft('a'.repeat(40)))).subtasks[0].id).toBe('a'.repeat(32));
    expect(refused(planText(draft('Step 1'), draft('step 1'))).errors).toEqual([
      expect.stringMatching(/^subtasks\.0\.id: ids are 1-32 characters/),
      expect.stringMatching(/^subtasks\.1\.id/),
    ]);
  });

  it('reads a plan wrapped in one more object, or its list named "steps" or "tasks"', () => {
    expect(accepted(JSON.stringify({ plan: { subtasks: [draft('s1')] } })).repairs).toEqual([
      'the plan was wrapped in "plan"; read as the plan',
    ]);
    expect(accepted(JSON.stringify({ steps: [draft('s1')] })).repairs).toEqual(['"steps" read as "subtasks"']);
    expect(accepted(JSON.stringify({ tasks: [draft('s1')] })).subtasks).toHaveLength(1);
  });

  it('titles a subtask without a title from its instructions, cuts a long title, joins listed instructions', () => {
    const { subtasks } = accepted(
      planText(
        { id: 's1', instructions: 'Compute 17 * 23.\nThen add 4.', milestone: 'M' },
        draft('s2', { title: 'x'.repeat(200), instructions: ['Read a.txt', 'Sum the numbers'] }),
      ),
    );
    expect(subtasks[0].title).toBe('Compute 17 * 23.');
    expect(subtasks[1].title).toHaveLength(120);
    expect(subtasks[1].instructions).toBe('Read a.txt\nSum the numbers');
  });

  it('reads tool names in another case or functions.-prefixed, and drops names that are no tool', () => {
    const { subtasks, repairs } = accepted(
      planText(
        draft('s1', { tools: ['Calculator', 'functions.write_file', 'browser', 'everything__echo'] }),
        draft('s2', { tools: ['web_browser'] }),
      ),
    );
    expect(subtasks[0].tools).toEqual(['calculator', 'write_file', 'everything__echo']);
    expect(subtasks[1].tools).toBeUndefined();
    expect(repairs).toContain('tool "browser" of subtask "s1" is no tool; dropped');
    expect(repairs).toContain('tools of subtask "s2" named no tool: all tools are offered');
  });

  it('reads absurd budgets: no number means the default, fractions round up, and ceilings hold', () => {
    const { subtasks } = accepted(
      planText(draft('s1', { budget: { maxSteps: 3.5, maxTokens: 1e15, maxSeconds: 'forever' } })),
    );
    expect(subtasks[0].budget).toEqual({ maxSteps: 4, maxTokens: BUDGET_CEILINGS.maxTokens });
    expect(accepted(planText(draft('s1', { budget: { maxSeconds: 1e20 } }))).subtasks[0].budget).toEqual({
      maxSeconds: BUDGET_CEILINGS.maxSeconds,
    });
  });

  it('drops checks that could never hold (a path leaving the workspace, an unknown kind), and tidies the rest', () => {
    const checks = [
      { file: '../outside.txt' },
      { file: '/etc/passwd' },
      { file: '~/notes.txt' },
      { file: 'notes/../../x.txt' },
      { kind: 'http', url: 'http://x' },
      { file: './answer.txt', contains: '' },
      { file: 'notes/../result.txt', contains: '395' },
    ];
    const { subtasks, repairs } = accepted(
      planText(draft('s1', { checks }), draft('s2', { checks: [{ file: '..' }] })),
    );
    expect(subtasks[0].checks).toEqual([
      { kind: 'file', file: 'answer.txt' },
      { kind: 'file', file: 'result.txt', contains: '395' },
    ]);
    expect(subtasks[1].checks).toBeUndefined();
    expect(repairs.filter((repair) => repair.includes('leaves the workspace'))).toHaveLength(5);
  });

  it('says in the schema what an empty tool list means, and what checks are', () => {
    const schema = JSON.stringify(planJsonSchema());
    expect(schema).toContain('absent or [] means all tools');
    expect(schema).toContain('A failed check is a missed milestone');
    expect(schema).toContain(`at least ${MIN_SUBTASK_TOKENS}`);
  });

  it('builds the fallback plan from the goal itself', () => {
    expect(fallbackPlan('Compute 17 * 23 + 4\nand save it')).toEqual([
      {
        id: 'goal',
        title: 'Compute 17 * 23 + 4',
        instructions: 'Compute 17 * 23 + 4\nand save it',
        milestone: 'the goal is achieved',
        dependsOn: [],
      },
    ]);
  });
});

describe("the judge's verdict is read as leniently as a plan", () => {
  it.each([
    ['as JSON', '{"met": true, "reason": "395 is in answer.txt"}', true],
    ['in a fence with prose', 'Verdict:\n```json\n{"met": true, "reason": "ok"}\n```\nDone.', true],
    ['with "met" as a string', '{"met": "false", "reason": "it says 394"}', false],
    ['with "met" as yes', "{'met': 'yes', 'reason': 'ok',}", true],
    ['with extra fields', '{"met": true, "reason": "ok", "confidence": 0.9}', true],
    ['without a reason', '{"met": true}', true],
  ])('reads a verdict %s', (_label, content, met) => {
    expect(readVerdict(content)).toEqual({ met, reason: expect.any(String) });
  });

  it.each([
    ['prose only', 'The milestone is met.'],
    ['no "met"', '{"reason": "looks fine"}'],
    ['"met" that means neither', '{"met": "probably", "reason": "?"}'],
    ['empty', ''],
  ])('finds no verdict in %s', (_label, content) => {
    expect(readVerdict(content)).toBeUndefined();
  });
});
