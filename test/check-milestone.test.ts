import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkMilestone } from '../activities/check-milestone';
import { contentStore } from '../activities/content-store';
import { McpPool } from '../activities/mcp/pool';
import { loadConfig } from '../node/config';
import { workspaceDir } from '../node/workspace';
import { impliedChecks, type MilestoneCheck } from '../common/checks';

describe('checkMilestone (file checks in the goal workspace)', () => {
  let root: string;
  const run = (checks: MilestoneCheck[]) => {
    const config = { ...loadConfig(), workspaceRoot: root };
    const mcp = new McpPool(() => config.mcp);
    return checkMilestone(
      { config, store: contentStore(path.join(root, 'store')), mcp },
      { workspace: 'goal-1', checks },
    );
  };

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-checks-'));
    await fs.mkdir(path.join(workspaceDir(root, 'goal-1'), 'notes'), { recursive: true });
    await fs.writeFile(path.join(workspaceDir(root, 'goal-1'), 'answer.txt'), '395\n');
    await fs.writeFile(path.join(root, 'outside.txt'), 'secret');
  });
  afterAll(() => fs.rm(root, { recursive: true, force: true }));

  it('says for each check whether it holds, and what was found', async () => {
    expect(
      await run([
        { kind: 'file', file: 'answer.txt' },
        { kind: 'file', file: 'answer.txt', contains: '395' },
        { kind: 'file', file: 'answer.txt', contains: '42' },
        { kind: 'file', file: 'missing.txt' },
        { kind: 'file', file: 'notes' },
        { kind: 'file', file: '../outside.txt' },
      ]),
    ).toEqual([
      { kind: 'file', file: 'answer.txt', ok: true, detail: 'exists (4 bytes)' },
      { kind: 'file', file: 'answer.txt', contains: '395', ok: true, detail: '4 bytes, contains "395"' },
      {
        kind: 'file',
        file: 'answer.txt',
        contains: '42',
        ok: false,
        detail: '4 bytes, does not contain "42": "395\\n"',
      },
      { kind: 'file', file: 'missing.txt', ok: false, detail: 'no such file in the workspace' },
      { kind: 'file', file: 'notes', ok: false, detail: 'it is a folder, not a file' },
      {
        kind: 'file',
        file: '../outside.txt',
        ok: false,
        detail: expect.stringMatching(/^path "\.\.\/outside\.txt" leaves the workspace/),
      },
    ]);
  });
});

describe('the checks a milestone implies when the plan gave none', () => {
  it.each([
    ['answer.txt holds 395', ['answer.txt']],
    ['notes/summary.md and data.csv are written (see data.csv)', ['notes/summary.md', 'data.csv']],
    ['the result (out.json) exists', ['out.json']],
    ['395 is computed', []],
    ['the page example.com is fetched and user@mail.com is told', []],
    ['https://x.org/a.json is read', []],
  ])('%s → %j', (milestone, files) => {
    expect(impliedChecks(milestone)).toEqual(files.map((file) => ({ kind: 'file', file })));
  });
});
