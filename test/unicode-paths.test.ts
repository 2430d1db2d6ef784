/**
 * Unicode file names: paths are compared and stored in NFC in the file tools and the milestone checks, so two names
 * that normalise alike are one file (activities/tools/workspace.ts).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkMilestone } from '../activities/check-milestone';
import { contentStore } from '../activities/content-store';
import { McpPool } from '../activities/mcp/pool';
import { listFiles } from '../activities/tools/list-files';
import { readFile } from '../activities/tools/read-file';
import { writeFile } from '../activities/tools/write-file';
import { loadConfig } from '../node/config';
import { workspaceDir } from '../node/workspace';
import { match, reply } from '../dev/scripted-model';
import { startTandem, type Tandem } from './helpers/tandem';

const NFC = 'r\u00e9sum\u00e9.txt';
const NFD = 'r\u0065\u0301sum\u0065\u0301.txt';

describe('file names in NFC (tools and checks)', () => {
  let root: string;
  let workspace: string;
  const config = () => ({ ...loadConfig(), workspaceRoot: root });
  const context = () => ({ workspaceDir: workspace, signal: new AbortController().signal, config: config() });
  const check = (file: string) =>
    checkMilestone(
      {
        config: config(),
        store: contentStore({ kind: 'folder', dir: path.join(root, 'store') }),
        mcp: new McpPool(() => config().mcp),
      },
      { workspace: 'goal-1', checks: [{ kind: 'file', file }] },
    );

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-nfc-'));
    workspace = workspaceDir(root, 'goal-1');
    await fs.mkdir(workspace, { recursive: true });
  });
  afterEach(() => fs.rm(root, { recursive: true, force: true }));

  it('stores a name written in NFD under its NFC form, and reads it by either', async () => {
    expect(NFC).not.toBe(NFD);
    await writeFile.execute({ path: `notes/${NFD}`, content: 'CV' }, context());
    expect(await fs.readdir(path.join(workspace, 'notes'))).toEqual([NFC]);
    expect(await readFile.execute({ path: `notes/${NFC}` }, context())).toContain('CV');
    expect(await readFile.execute({ path: `notes/${NFD}` }, context())).toContain('CV');
    expect(await listFiles.execute({ path: 'notes' }, context())).toBe(NFC);
  });

  it('finds a file made in NFD outside tandem by its NFC name, and writes the same file, not a twin', async () => {
    await fs.writeFile(path.join(workspace, NFD), 'from macOS');
    expect((await check(NFC))[0]).toEqual(expect.objectContaining({ ok: true }));
    expect(await readFile.execute({ path: NFC }, context())).toContain('from macOS');
    await writeFile.execute({ path: NFC, content: 'edited' }, context());
    expect(await fs.readdir(workspace)).toEqual([NFD]);
    expect(await fs.readFile(path.join(workspace, NFD), 'utf8')).toBe('edited');
    expect(await listFiles.execute({ path: '.' }, context())).toBe(NFC);
  });

  it('checks an NFC path against a file the executor wrote in NFD (the issue example)', async () => {
    await writeFile.execute({ path: NFD, content: 'CV' }, context());
    expect((await check(NFC))[0]).toEqual(expect.objectContaining({ ok: true }));
    expect((await check(NFD))[0]).toEqual(expect.objectContaining({ ok: true }));
  });
});

describe('file names in NFC in a whole goal', () => {
  let tandem: Tandem;
  beforeEach(async () => {
    tandem = await startTandem();
  });
  afterEach(async () => {
    await tandem.stop();
  });

  it(`meets a plan's check of ${NFC} (NFC) when the executor writes it in NFD`, async () => {
    const subtask = {
      id: 's1',
      title: 'Write the CV',
      instructions: `Write ${NFC}.`,
      milestone: `${NFC} exists`,
      dependsOn: [],
      checks: [{ kind: 'file', file: NFC }],
    };
    tandem.model
      .on(match.responseFormat('plan'), [reply.json({ subtasks: [subtask] })], { name: 'planner' })
      .on(match.responseFormat('verdict'), [reply.json({ met: true, reason: 'written' })], { name: 'judge' })
      .on(match.systemContains('final report'), [reply.text('Done.')], { name: 'report' })
      .on(match.and(match.systemContains('Subtask s1:'), match.lastRole('tool')), [reply.text('written')])
      .on(match.systemContains('Subtask s1:'), [reply.toolCall('write_file', { path: NFD, content: 'CV' })]);
    const handle = await tandem.startPlanner('nfc', { goal: `Write ${NFC}` });
    const result = await handle.result();
    expect(result).toEqual(expect.objectContaining({ ok: true }));
    expect(result.subtasks.map((entry) => entry.status)).toEqual(['done']);
    expect(await fs.readdir(tandem.workspaceDir(handle.workflowId))).toEqual([NFC]);
  });
});
