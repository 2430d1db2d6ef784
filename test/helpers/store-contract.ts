/**
 * What every store backend must do, as one spec run on each: the folder store in `npm test` (test/store.test.ts), the
 * S3 store on a real versitygw in the cluster suite (test/cluster/store.cluster.ts).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ContentNotFoundError, contentStore, MalformedRefError } from '../../activities/content-store';
import { readWorkspace, writeWorkspace, type Manifest } from '../../activities/workspace-sync';
import type { StoreLocation } from '../../node/store-location';

/** Defines the contract's tests for the store `location()` returns (called in `beforeAll`, once per test file). */
export function describeStoreContract(backend: string, location: () => StoreLocation, storeName: RegExp): void {
  const store = () => contentStore(location());
  let roots: string[];
  let workspace: string;
  let n = 0;
  beforeEach(async () => {
    const base = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-roots-'));
    roots = ['worker-a', 'worker-b', 'cli'].map((name) => path.join(base, name));
    workspace = `goal-${process.pid}-${Date.now()}-${n++}`;
  });
  const on = (root: number) => ({ store: store(), workspaceRoot: roots[root], workspace });
  const write = (root: number, files: Record<string, string | null>, callKey = `call-${n++}`) =>
    writeWorkspace(on(root), callKey, async (dir) => {
      for (const [name, text] of Object.entries(files)) {
        const file = path.join(dir, name);
        if (text === null) await fs.rm(file, { recursive: true, force: true });
        else {
          await fs.mkdir(path.dirname(file), { recursive: true });
          await fs.writeFile(file, text);
        }
      }
    });
  const filesOn = (root: number) =>
    readWorkspace(on(root), async (dir) => {
      const found: Record<string, string> = {};
      for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
        if (!entry.isFile()) continue;
        const file = path.join(entry.parentPath, entry.name);
        found[path.relative(dir, file)] = await fs.readFile(file, 'utf8');
      }
      return found;
    });

  describe(`the content store (${backend})`, () => {
    it('gives the same reference for the same content, and a retried put is no error', async () => {
      const text = `transcript ${Date.now()} ✓`;
      const ref = await store().put(text);
      expect(ref).toMatch(/^sha256:[0-9a-f]{64}$/);
      await expect(store().put(text)).resolves.toBe(ref);
      await expect(store().get(ref)).resolves.toBe(text);
    });

    it('keeps the first body of a key written twice (an exclusive create)', async () => {
      const key = `test/${Date.now()}`;
      const objects = store().objects;
      await expect(objects.create(key, { bytes: Buffer.from('first') })).resolves.toBe('created');
      await expect(objects.create(key, { bytes: Buffer.from('second') })).resolves.toBe('existed');
      expect((await objects.read(key))?.toString()).toBe('first');
    });

    it('lists a folder one level deep, and removes an object or a whole folder (twice is no error)', async () => {
      const folder = `listing-${process.pid}-${Date.now()}`;
      const objects = store().objects;
      for (const key of ['a/00.json', 'a/01.json', 'b/00.json', 'c.json']) {
        await objects.create(`${folder}/${key}`, { bytes: Buffer.from(key) });
      }
      expect((await objects.children(folder)).sort()).toEqual(['a', 'b', 'c.json']);
      expect(await objects.children(`${folder}/none`)).toEqual([]);
      await objects.removeFolder(`${folder}/a`);
      await objects.removeFolder(`${folder}/a`);
      await objects.remove(`${folder}/c.json`);
      await objects.remove(`${folder}/c.json`);
      expect(await objects.children(folder)).toEqual(['b']);
      expect(await objects.read(`${folder}/a/00.json`)).toBeUndefined();
      expect((await objects.read(`${folder}/b/00.json`))?.toString()).toBe('b/00.json');
    });

    it('says which store lacks a missing object, and refuses a malformed reference', async () => {
      const missing = `sha256:${'0'.repeat(64)}`;
      const error = await store()
        .get(missing)
        .catch((err: Error) => err);
      expect(error).toBeInstanceOf(ContentNotFoundError);
      expect((error as Error).message).toMatch(storeName);
      expect((error as Error).message).toContain(missing);
      await expect(store().get('sha256:../../etc/passwd')).rejects.toBeInstanceOf(MalformedRefError);
    });
  });

  describe(`workspaces any worker can serve (${backend})`, () => {
    it('shows a file one worker wrote to a check on another worker with an empty folder', async () => {
      await write(0, { 'answer.txt': '395\n', 'notes/summary.md': '# done' });
      await expect(filesOn(1)).resolves.toEqual({ 'answer.txt': '395\n', 'notes/summary.md': '# done' });
    });

    it('applies a deletion and a change made on another worker to a stale working copy', async () => {
      await write(0, { 'a.txt': 'one', 'b.txt': 'two' });
      await expect(filesOn(1)).resolves.toEqual({ 'a.txt': 'one', 'b.txt': 'two' });
      await write(0, { 'a.txt': null, 'b.txt': 'three' });
      await expect(filesOn(1)).resolves.toEqual({ 'b.txt': 'three' });
    });

    it('keeps both writes of two calls that raced from the same generation on two workers', async () => {
      await write(0, { 'base.txt': 'base' });
      // B checks out generation 1, then A's call completes (generation 2) before B's does: B must build on it.
      let leftDone: Promise<unknown> = Promise.resolve();
      const right = writeWorkspace(on(1), 'call-right', async (folder) => {
        leftDone = write(0, { 'left.txt': 'L' });
        await leftDone;
        await fs.writeFile(path.join(folder, 'right.txt'), 'R');
      });
      await right;
      await leftDone;
      await expect(filesOn(2)).resolves.toEqual({ 'base.txt': 'base', 'left.txt': 'L', 'right.txt': 'R' });
    });

    it('stores nothing of a call that failed halfway, and the next checkout discards what it wrote', async () => {
      await write(0, { 'kept.txt': 'kept' });
      const failing = writeWorkspace(on(0), 'call-fails', async (dir) => {
        await fs.writeFile(path.join(dir, 'half.txt'), 'half');
        throw new Error('killed mid call');
      });
      await expect(failing).rejects.toThrow('killed mid call');
      await expect(filesOn(1)).resolves.toEqual({ 'kept.txt': 'kept' });
      await expect(filesOn(0)).resolves.toEqual({ 'kept.txt': 'kept' });
    });

    it('records the files after each call by reference', async () => {
      const first = await write(0, { 'a.txt': 'one' });
      const second = await write(1, { 'b.txt': 'two' });
      const manifest = async (ref: string) => JSON.parse(await store().get(ref)) as Manifest;
      expect(Object.keys(await manifest(first.workspaceRef))).toEqual(['a.txt']);
      expect(Object.keys(await manifest(second.workspaceRef))).toEqual(['a.txt', 'b.txt']);
      const unchanged = await write(2, {});
      expect(unchanged.workspaceRef).toBe(second.workspaceRef);
    });

    it('keeps files put in the folder before the first call, and bytes that are not text', async () => {
      const bytes = Buffer.from([0, 255, 10, 13, 128]);
      const dir = await readWorkspace(on(0), async (folder) => folder);
      await fs.writeFile(path.join(dir, 'seed.bin'), bytes);
      await write(0, { 'out.txt': 'x' });
      const copy = await readWorkspace(on(1), async (folder) => fs.readFile(path.join(folder, 'seed.bin')));
      expect(copy.equals(bytes)).toBe(true);
    });

    it('replaces a folder by a file of the same name on another worker', async () => {
      await write(0, { 'thing/inner.txt': 'in a folder' });
      await expect(filesOn(1)).resolves.toEqual({ [path.join('thing', 'inner.txt')]: 'in a folder' });
      await write(0, { thing: null });
      await write(0, { thing: 'now a file' });
      await expect(filesOn(1)).resolves.toEqual({ thing: 'now a file' });
    });
  });
}
