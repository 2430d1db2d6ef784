/** Local files that several processes share: written whole or not at all, and read as absent when another removed them. */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';

/** The name of a partial file of `file`: unique, so two writers never share one. */
export function partialPathOf(file: string): string {
  return `${file}.${randomUUID()}.partial`;
}

/** Matches the names {@link partialPathOf} gives: a scan of a working copy skips them, as a write in progress. */
export const PARTIAL_FILE = /\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.partial$/;

/**
 * Writes `file` through a partial file of a unique name (`<file>.<uuid>.partial`) renamed into place: a process killed
 * mid-write leaves no truncated file under the real name, and two processes writing the same file (two `tandem result`
 * checking out one workspace) each rename a whole file, so a reader never sees half of one.
 */
export async function writeThroughPartial(file: string, write: (partial: string) => Promise<void>): Promise<void> {
  const partial = partialPathOf(file);
  try {
    await write(partial);
    await fs.rename(partial, file);
  } finally {
    await fs.rm(partial, { force: true });
  }
}

/** Maps a file that is not there (ENOENT, or ENOTDIR for a path through a file) to undefined; rethrows the rest. */
export function absentAsUndefined(err: unknown): undefined {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
  throw err;
}
