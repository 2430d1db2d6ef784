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
      { config, store: contentStore({ kind: 'folder', dir: path.join(root, 'store') }), mcp },
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

  it('searches a file larger than a string can hold (600 MB) without reading it whole', async () => {
    const big = path.join(workspaceDir(root, 'goal-1'), 'big.log');
    const size = 600 * 1024 * 1024;
    // Sparse: megabytes of zeros cost no disk, and the text sits across the search's 1 MB chunk boundaries.
    await fs.writeFile(big, '');
    await fs.truncate(big, size);
    const handle = await fs.open(big, 'r+');
    await handle.write('the answer is 395', size - 9);
    await handle.write('head', 0);
    await handle.close();
    try {
      expect(await run([{ kind: 'file', file: 'big.log', contains: 'answer is 395' }])).toEqual([
        expect.objectContaining({ ok: true, detail: expect.stringContaining('contains "answer is 395"') }),
      ]);
      expect(await run([{ kind: 'file', file: 'big.log', contains: '42' }])).toEqual([
        expect.objectContaining({ ok: false, detail: expect.stringMatching(/does not contain "42": "head/) }),
      ]);
    } finally {
      await fs.rm(big);
    }
  });

  it('finds text split across two chunks of the search', async () => {
    const file = path.join(workspaceDir(root, 'goal-1'), 'edge.txt');
    await fs.writeFile(file, `${'x'.repeat((1 << 20) - 2)}395\n`);
    expect(await run([{ kind: 'file', file: 'edge.txt', contains: '395' }])).toEqual([
      expect.objectContaining({ ok: true }),
    ]);
    await fs.rm(file);
  });

  it('follows a link inside the workspace, and refuses one that leads out of it', async () => {
    const dir = workspaceDir(root, 'goal-1');
    await fs.symlink('answer.txt', path.join(dir, 'inside-link.txt'));
    await fs.symlink(path.join(root, 'outside.txt'), path.join(dir, 'outside-link.txt'));
    expect(
      await run([
        { kind: 'file', file: 'inside-link.txt', contains: '395' },
        { kind: 'file', file: 'outside-link.txt' },
      ]),
    ).toEqual([
      expect.objectContaining({ ok: true }),
      expect.objectContaining({ ok: false, detail: expect.stringMatching(/leaves the workspace/) }),
    ]);
  });

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
    // Files meant to be gone, moved or left alone: a check that they exist would fail the work itself.
    ['tmp.txt is deleted', []],
    ['old.log has been removed from the workspace', []],
    ['draft.md is renamed to final.md', []],
    ['notes.txt is moved into archive/', []],
    ['config.yaml is not modified', []],
    ['no output.log is left behind', []],
    ['the workspace is cleaned of *.tmp files and scratch.txt', []],
    // Words of a file's name are not words of the milestone: missing.txt is a file to read, not one meant gone.
    ['the first line of missing.txt is told', ['missing.txt']],
  ])('%s → %j', (milestone, files) => {
    expect(impliedChecks(milestone)).toEqual(files.map((file) => ({ kind: 'file', file })));
  });
});
