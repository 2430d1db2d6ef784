/**
 * The bytes under tandem's stores: named objects in a folder or an S3 bucket, shared by every worker and the CLI.
 * Two kinds of write only: {@link ObjectStore.create} (first writer wins, for content-addressed objects, journals and
 * workspace generations) and {@link ObjectStore.overwrite} (for hints a reader checks, never for truth). A missing
 * object is `undefined`, so each caller words its own "not found" error. Removal is for what expires (the live event
 * stream's segments, docs/stream.md "Retention"), never for what a goal still reads.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { absentAsUndefined, PARTIAL_FILE, partialPathOf, writeThroughPartial } from './files';
import { S3ObjectStore } from './s3-object-store';
import type { StoreLocation } from './store-location';

/** A body: bytes in memory, or a local file streamed as it is (a workspace file of any size). */
export type ObjectBody = { bytes: Buffer } | { file: string };

/** How a {@link ObjectStore.create} ended: both mean the object now holds a complete body. */
export type CreateOutcome = 'created' | 'existed';

export interface ObjectStore {
  /** The store as a person names it in messages (the folder, or the bucket, prefix and endpoint). */
  readonly description: string;
  /** The object's bytes, or `undefined` when there is none under `key`. */
  read(key: string): Promise<Buffer | undefined>;
  /** Copies the object into `file` (replacing it); false when there is none under `key`. */
  readToFile(key: string, file: string): Promise<boolean>;
  /**
   * Writes `key` unless it exists (S3 `If-None-Match: *`; a 412 is `'existed'`). A reader never sees half a body.
   * Retrying a write that may have half-happened is therefore safe.
   */
  create(key: string, body: ObjectBody): Promise<CreateOutcome>;
  /** Writes `key` whether or not it exists; last writer wins. */
  overwrite(key: string, body: ObjectBody): Promise<void>;
  /**
   * The names directly inside `folder` (a key prefix without its trailing `/`): objects and sub-folders alike, in no
   * set order; `[]` when there is nothing under it. Names only, not keys: join them to `folder/` to read one.
   */
  children(folder: string): Promise<string[]>;
  /** Removes the object `key`; nothing happens when there is none. */
  remove(key: string): Promise<void>;
  /** Removes every object under `folder/`; nothing happens when there is none. */
  removeFolder(folder: string): Promise<void>;
}

/** A folder: keys are relative paths; writes go to a unique partial file first, then are linked or renamed in. */
class FolderObjectStore implements ObjectStore {
  constructor(readonly dir: string) {}

  get description(): string {
    return this.dir;
  }

  async read(key: string): Promise<Buffer | undefined> {
    return fs.readFile(this.pathOf(key)).catch(absentAsUndefined);
  }

  async readToFile(key: string, file: string): Promise<boolean> {
    const source = this.pathOf(key);
    try {
      await writeThroughPartial(file, (partial) => fs.copyFile(source, partial));
      return true;
    } catch (err) {
      // ENOENT is also what a missing destination folder gives: only a missing source means a missing object.
      if ((await fs.stat(source).catch(absentAsUndefined)) !== undefined) throw err;
      return absentAsUndefined(err) ?? false;
    }
  }

  async create(key: string, body: ObjectBody): Promise<CreateOutcome> {
    const partial = await this.writePartial(key, body);
    try {
      // link() fails with EEXIST when the key exists: the exclusive create, atomic on one file system.
      await fs.link(partial, this.pathOf(key));
      return 'created';
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return 'existed';
      throw err;
    } finally {
      await fs.rm(partial, { force: true });
    }
  }

  async overwrite(key: string, body: ObjectBody): Promise<void> {
    await fs.rename(await this.writePartial(key, body), this.pathOf(key));
  }

  async children(folder: string): Promise<string[]> {
    const names = await fs.readdir(this.pathOf(folder)).catch(absentAsUndefined);
    // A partial file is a write in flight, not an object yet.
    return (names ?? []).filter((name) => !PARTIAL_FILE.test(name));
  }

  async remove(key: string): Promise<void> {
    await fs.rm(this.pathOf(key), { force: true });
  }

  async removeFolder(folder: string): Promise<void> {
    await fs.rm(this.pathOf(folder), { recursive: true, force: true });
  }

  private async writePartial(key: string, body: ObjectBody): Promise<string> {
    const target = this.pathOf(key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const partial = partialPathOf(target);
    if ('bytes' in body) await fs.writeFile(partial, body.bytes);
    else await fs.copyFile(body.file, partial);
    return partial;
  }

  private pathOf(key: string): string {
    return path.join(this.dir, ...key.split('/'));
  }
}

/** The object store at `location` (node/s3-object-store.ts loads the AWS SDK only when first used). */
export function openObjectStore(location: StoreLocation): ObjectStore {
  return location.kind === 'folder' ? new FolderObjectStore(location.dir) : new S3ObjectStore(location);
}
