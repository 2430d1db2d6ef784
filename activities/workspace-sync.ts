/**
 * Workspaces any worker can serve. The truth of a goal's files is in the store, not on a worker's disk: generation N
 * of a workspace is a manifest (relative path → content reference) recorded by reference after a tool call that
 * changed files. A worker's folder under `TANDEM_WORKSPACE_ROOT` is only its working copy: before a tool call or a
 * milestone check it is brought to the newest generation (materialised), and after a call the files it changed are
 * stored and a new generation is written.
 *
 * Why this design and not worker affinity: a worker that dies (kill -9 mid tool call) then loses nothing a completed
 * call wrote, since a call completes only after its generation is stored; the call it was running left nothing in the
 * store, and the retry on another worker starts from the last generation. Every step's files stay known by reference
 * (`workspaceRef` in each side-effecting `runTool` result in history), which forking a goal at a step needs. The cost is a scan of the folder per
 * call (hashes are cached by size and modification time) and a few store requests.
 *
 * Generations are written with an exclusive create (`If-None-Match: *` on S3, `link()` on a folder): two calls of
 * parallel subtasks that both build on generation N race for N+1, the loser re-reads and applies its own changes on
 * top of the winner's, so two workers behave as two processes sharing one folder would (last writer of a file wins).
 * Within one process, calls on one workspace share its working copy: readers together, a writer alone.
 *
 * Not kept: empty folders are (as `path/` entries), file modes and symbolic links are not (the file tools refuse
 * links anyway).
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs, type Stats } from 'node:fs';
import * as path from 'node:path';
import { canonicalJson } from '../common/canonical-json';
import { absentAsUndefined, PARTIAL_FILE } from '../node/files';
import { workspaceDir } from '../node/workspace';
import { ContentNotFoundError, type ObjectContentStore } from './content-store';

/**
 * The files of a workspace at one generation: a POSIX relative path → content reference (`sha256:…`), or a folder
 * (a key ending in `/`) → `''`.
 */
export type Manifest = Record<string, string>;

/** One generation of a workspace, as read from the store. */
interface Generation {
  number: number;
  manifestRef: string;
  manifest: Manifest;
}

/** What a generation object holds; the manifest itself is content by reference, shared by equal generations. */
interface GenerationRecord {
  manifestRef: string;
  /** The tool call whose completion wrote it, for a person reading the store. */
  callKey: string;
}

const GENERATION_DIGITS = 10;

function keys(dir: string) {
  const base = `workspaces/${path.basename(dir)}`;
  return {
    head: `${base}/head.json`,
    generation: (n: number) => `${base}/generations/${String(n).padStart(GENERATION_DIGITS, '0')}.json`,
  };
}

/**
 * Calls on one workspace in this process share its working copy: read-only calls run together (parallel tool calls of
 * one step), a call that may write runs alone. First come, first served, so a waiting writer is not starved.
 */
interface Turns {
  readers: number;
  writing: boolean;
  waiting: Array<{ write: boolean; start: () => void }>;
}

const turns = new Map<string, Turns>();

async function inTurn<T>(dir: string, write: boolean, work: () => Promise<T>): Promise<T> {
  let state = turns.get(dir);
  if (!state) turns.set(dir, (state = { readers: 0, writing: false, waiting: [] }));
  const current = state;
  const pump = () => {
    for (let next = current.waiting[0]; next; next = current.waiting[0]) {
      if (current.writing || (next.write && current.readers > 0)) return;
      current.waiting.shift();
      if (next.write) current.writing = true;
      else current.readers += 1;
      next.start();
    }
  };
  await new Promise<void>((start) => {
    current.waiting.push({ write, start });
    pump();
  });
  try {
    return await work();
  } finally {
    if (write) current.writing = false;
    else current.readers -= 1;
    if (!current.writing && current.readers === 0 && current.waiting.length === 0) turns.delete(dir);
    else pump();
  }
}

/** Readers bring the working copy up to date one at a time: two downloads of one file would collide. */
const checkouts = new Map<string, Promise<unknown>>();

function oneCheckoutAtATime<T>(dir: string, work: () => Promise<T>): Promise<T> {
  const next = (checkouts.get(dir) ?? Promise.resolve()).catch(() => undefined).then(work);
  checkouts.set(dir, next);
  void next.finally(() => checkouts.get(dir) === next && checkouts.delete(dir)).catch(() => undefined);
  return next;
}

/** Hash cache: a file whose size, inode and modification time are unchanged keeps its reference. */
const hashes = new Map<string, { stamp: string; ref: string }>();

function stampOf(stat: Stats): string {
  return `${stat.size}:${stat.ino}:${stat.mtimeMs}`;
}

async function hashFile(file: string, stat: Stats): Promise<string> {
  const stamp = stampOf(stat);
  const cached = hashes.get(file);
  if (cached?.stamp === stamp) return cached.ref;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  const ref = `sha256:${hash.digest('hex')}`;
  hashes.set(file, { stamp, ref });
  return ref;
}

/** The manifest of the working copy at `dir` (empty when the folder does not exist). */
async function scan(dir: string): Promise<Manifest> {
  const manifest: Manifest = {};
  const walk = async (relative: string): Promise<void> => {
    const entries = await fs.readdir(path.join(dir, relative), { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
      const absolute = path.join(dir, child);
      if (entry.isDirectory()) {
        manifest[`${child}/`] = '';
        await walk(child);
      } else if (entry.isFile() && !PARTIAL_FILE.test(entry.name)) {
        // A file another process removed since the listing (a second `tandem result` replacing it) is not there.
        const ref = await fs
          .stat(absolute)
          .then((stat) => hashFile(absolute, stat))
          .catch(absentAsUndefined);
        if (ref !== undefined) manifest[child] = ref;
      }
    }
  };
  await walk('');
  return manifest;
}

/** Brings the working copy at `dir` to `target`: removes what it lacks, fetches what differs. */
async function materialise(store: ObjectContentStore, dir: string, target: Manifest): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const current = await scan(dir);
  // Deepest first, so a folder is emptied before it is removed.
  const extra = Object.keys(current)
    .filter((key) => !(key in target))
    .sort((a, b) => b.length - a.length);
  for (const key of extra) await fs.rm(path.join(dir, key), { recursive: true, force: true });
  for (const [key, ref] of Object.entries(target).sort(([a], [b]) => a.localeCompare(b))) {
    if (current[key] === ref) continue;
    const absolute = path.join(dir, key);
    if (key.endsWith('/')) {
      await folderAt(absolute.slice(0, -1));
      continue;
    }
    // A file is replaced whole by the download's rename, never removed first: a process checking out the same copy
    // meanwhile sees the old file or the new one. Only a folder where the file goes must go.
    if (`${key}/` in current) await fs.rm(absolute, { recursive: true, force: true });
    await fs.mkdir(path.dirname(absolute), { recursive: true });
    await store.getFile(ref, absolute);
  }
}

/** Makes `absolute` a folder, replacing a file of that name; one that exists already (another process made it) is kept. */
async function folderAt(absolute: string): Promise<void> {
  try {
    await fs.mkdir(absolute, { recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    await fs.rm(absolute, { force: true });
    await fs.mkdir(absolute, { recursive: true });
  }
}

async function readJson<T>(store: ObjectContentStore, key: string): Promise<T | undefined> {
  const bytes = await store.objects.read(key);
  return bytes === undefined ? undefined : (JSON.parse(bytes.toString('utf8')) as T);
}

/** Manifests by reference: immutable, so a process keeps those it has read. */
const manifests = new Map<string, Manifest>();

async function manifestOf(store: ObjectContentStore, ref: string): Promise<Manifest> {
  let manifest = manifests.get(ref);
  if (!manifest) {
    manifest = JSON.parse(await store.get(ref)) as Manifest;
    manifests.set(ref, manifest);
  }
  return manifest;
}

/**
 * The newest generation, or undefined before the first. The head object is a hint written after each generation (it
 * may lag behind a racing writer, never run ahead), so the next numbers are probed until one is missing.
 */
async function newest(store: ObjectContentStore, dir: string): Promise<Generation | undefined> {
  const names = keys(dir);
  let number = (await readJson<{ generation: number }>(store, names.head))?.generation ?? 0;
  let record: GenerationRecord | undefined = number > 0 ? await readJson(store, names.generation(number)) : undefined;
  for (;;) {
    const next = await readJson<GenerationRecord>(store, names.generation(number + 1));
    if (!next) break;
    number += 1;
    record = next;
  }
  if (!record) return undefined;
  return { number, manifestRef: record.manifestRef, manifest: await manifestOf(store, record.manifestRef) };
}

/**
 * Stores what the call changed (`after` against `base`) as the next generation, applying the changes on top of any
 * generation another worker wrote meanwhile. Returns the reference of the manifest written.
 */
async function commit(
  store: ObjectContentStore,
  dir: string,
  base: Generation | undefined,
  after: Manifest,
  callKey: string,
): Promise<string> {
  const before = base?.manifest ?? {};
  const changed = Object.entries(after).filter(([key, ref]) => before[key] !== ref);
  const removed = Object.keys(before).filter((key) => !(key in after));
  // The files first: a generation that names content the store lacks would break every later worker.
  for (const [key, ref] of changed) if (ref !== '') await store.putFile(ref, path.join(dir, key));
  const names = keys(dir);
  for (let head = base; ; head = await newest(store, dir)) {
    const merged: Manifest = { ...(head?.manifest ?? {}) };
    for (const key of removed) {
      for (const entry of Object.keys(merged)) {
        if (entry === key || (key.endsWith('/') && entry.startsWith(key))) delete merged[entry];
      }
    }
    for (const [key, ref] of changed) merged[key] = ref;
    const text = canonicalJson(merged);
    if (head && text === canonicalJson(head.manifest)) return head.manifestRef;
    const manifestRef = await store.put(text);
    const number = (head?.number ?? 0) + 1;
    const record: GenerationRecord = { manifestRef, callKey };
    const outcome = await store.objects.create(names.generation(number), {
      bytes: Buffer.from(JSON.stringify(record)),
    });
    if (outcome === 'created') {
      manifests.set(manifestRef, merged);
      await store.objects.overwrite(names.head, { bytes: Buffer.from(JSON.stringify({ generation: number })) });
      return manifestRef;
    }
  }
}

/** Brings the working copy to the newest generation (or creates the folder before the first) and returns that. */
async function checkout(store: ObjectContentStore, dir: string): Promise<Generation | undefined> {
  const head = await newest(store, dir);
  if (head) await materialise(store, dir, head.manifest);
  else await fs.mkdir(dir, { recursive: true });
  return head;
}

/** Where a workspace's working copy is and which store holds its generations. */
export interface WorkspaceTarget {
  store: ObjectContentStore;
  workspaceRoot: string;
  /** The workspace name (a goal id). */
  workspace: string;
}

/**
 * Runs `work` in the workspace's working copy brought to the newest generation, changing nothing in the store: for
 * read-only tools and milestone checks. Before the first generation the folder is used as it is.
 */
export function readWorkspace<T>(target: WorkspaceTarget, work: (dir: string) => Promise<T>): Promise<T> {
  const dir = workspaceDir(target.workspaceRoot, target.workspace);
  return inTurn(dir, false, async () => {
    await oneCheckoutAtATime(dir, () => checkout(target.store, dir));
    return work(dir);
  });
}

/**
 * Runs `work` (a tool call that may change files) in the working copy brought to the newest generation, then stores
 * the files it changed as a new generation. `workspaceRef` is the manifest after the call (unchanged files: the
 * newest one). Before the first generation, whatever the folder holds counts as the call's own writes, so files put
 * there before a goal starts are kept. When `work` throws, nothing is stored and the next call's checkout discards
 * whatever it half-wrote.
 */
export function writeWorkspace<T>(
  target: WorkspaceTarget,
  callKey: string,
  work: (dir: string) => Promise<T>,
): Promise<{ value: T; workspaceRef: string }> {
  const dir = workspaceDir(target.workspaceRoot, target.workspace);
  return inTurn(dir, true, async () => {
    const base = await checkout(target.store, dir);
    const value = await work(dir);
    const workspaceRef = await commit(target.store, dir, base, await scan(dir), callKey);
    return { value, workspaceRef };
  });
}

/**
 * Brings the working copy to the newest generation and returns its folder: for the planner's start of a goal and for
 * `tandem result` on a machine that never ran the goal.
 */
export function checkoutWorkspace(target: WorkspaceTarget): Promise<string> {
  return readWorkspace(target, async (dir) => dir);
}

/**
 * A fork's workspace: its first generation is `manifestRef` (a manifest the original recorded), unless it has one
 * already (a retried activity); then the working copy is checked out and its folder returned.
 */
export function seedWorkspace(target: WorkspaceTarget, manifestRef: string): Promise<string> {
  const dir = workspaceDir(target.workspaceRoot, target.workspace);
  return inTurn(dir, true, async () => {
    const { store } = target;
    if (!(await newest(store, dir))) {
      const record: GenerationRecord = { manifestRef, callKey: `fork:${manifestRef}` };
      await store.objects.create(keys(dir).generation(1), { bytes: Buffer.from(JSON.stringify(record)) });
      await store.objects.overwrite(keys(dir).head, { bytes: Buffer.from(JSON.stringify({ generation: 1 })) });
    }
    await checkout(store, dir);
    return dir;
  });
}

/**
 * What of the workspace at `manifestRef` the store no longer holds: the manifest itself, or the files it names.
 * Empty when every byte is there, so a fork can start from it.
 */
export async function missingContent(store: ObjectContentStore, manifestRef: string): Promise<string[]> {
  let manifest: Manifest;
  try {
    manifest = await manifestOf(store, manifestRef);
  } catch (err) {
    if (err instanceof ContentNotFoundError) return [`the manifest ${manifestRef}`];
    throw err;
  }
  const missing: string[] = [];
  for (const [file, ref] of Object.entries(manifest)) {
    if (ref !== '' && !(await store.has(ref))) missing.push(`${file} (${ref})`);
  }
  return missing;
}
