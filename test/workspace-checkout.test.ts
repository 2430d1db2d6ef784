/**
 * Several processes bringing one working copy to a goal's last workspace generation at once: two terminals running
 * `tandem result` on a machine that never ran the goal, or a result read while another is still checking out. Each
 * must print the result and leave the folder exactly as the goal left its files, whichever process wrote which file.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startGoal } from '../client/goals';
import { scriptDemo } from '../dev/demo-model';
import { workspaceDir } from '../node/workspace';
import { runCli } from './helpers/cli';
import { startTandem, type Tandem } from './helpers/tandem';

/** Every file under `dir` → sha256 of its bytes (folders as `path/`), as `tandem result` should leave it. */
async function tree(dir: string, relative = ''): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  for (const entry of await fs.readdir(path.join(dir, relative), { withFileTypes: true })) {
    const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
    if (entry.isDirectory()) Object.assign(found, { [`${child}/`]: '' }, await tree(dir, child));
    else
      found[child] = createHash('sha256')
        .update(await fs.readFile(path.join(dir, child)))
        .digest('hex');
  }
  return found;
}

describe('a working copy several processes check out at once', () => {
  let tandem: Tandem;
  beforeEach(async () => {
    tandem = await startTandem();
  });
  afterEach(async () => {
    await tandem.stop();
  });

  it('gives every concurrent `tandem result` the whole workspace, and a stale copy loses what the goal did not keep', async () => {
    const id = tandem.goalId('checkout-race');
    // Files there before the goal starts are its first generation's (activities/workspace-sync.ts): 240 small ones
    // across folders and two of 1 MiB, so the checkouts overlap for long enough to collide.
    const seeded = tandem.workspaceDir(id);
    for (let i = 0; i < 240; i++) {
      const file = path.join(seeded, `part-${i % 6}`, `file-${i}.txt`);
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, `line ${i}\n`.repeat(i + 1));
    }
    for (const name of ['big-a.bin', 'big-b.bin'])
      await fs.writeFile(path.join(seeded, name), Buffer.alloc(1 << 20, name));
    scriptDemo(tandem.model);
    const handle = await startGoal(tandem.client, {
      goal: 'Compute 17 * 23 + 4 and save it',
      id,
      taskQueue: tandem.taskQueue,
    });
    expect((await handle.result()).ok).toBe(true);
    const expected = await tree(seeded);
    expect(Object.keys(expected)).toContain('answer.txt');

    // Another machine's disk, where a stale copy holds a file the goal never had, a changed file and a removed folder's
    // file: the checkout replaces it with the goal's files alone.
    const elsewhere = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-elsewhere-'));
    const stale = workspaceDir(elsewhere, id);
    await fs.mkdir(path.join(stale, 'gone'), { recursive: true });
    await fs.writeFile(path.join(stale, 'gone', 'old.txt'), 'old');
    await fs.mkdir(path.join(stale, 'part-0'), { recursive: true });
    await fs.writeFile(path.join(stale, 'part-0', 'file-0.txt'), 'changed');
    const env = { TANDEM_WORKSPACE_ROOT: elsewhere, TANDEM_TASK_QUEUE: tandem.taskQueue };
    const runs = await Promise.all(Array.from({ length: 4 }, () => runCli(['result', id, '--json'], env)));

    for (const run of runs) {
      expect(run).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
      expect(JSON.parse(run.stdout)).toEqual(expect.objectContaining({ ok: true, workspace: stale }));
    }
    expect(await tree(stale)).toEqual(expected);
  });
});
