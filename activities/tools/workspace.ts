/**
 * Confinement of file tools to the goal's workspace, checked at the moment of each operation.
 *
 * A path is walked one component at a time from the workspace's real path, with `lstat`: a component that is a link is
 * followed only when its target exists and is inside the workspace; a link pointing out, a dangling link (which a write
 * would otherwise create outside) and a linked parent folder pointing out are refused. Writes then open the checked
 * path with `O_NOFOLLOW`, so a link planted at the leaf between the check and the write is refused too.
 *
 * Names are Unicode NFC: a path is normalised before it is walked, so a file tandem writes is stored under its NFC name,
 * and a component that does not exist under that name is looked up among its folder's entries by their NFC form, so a
 * name written in NFD (as text from macOS often is) and its NFC twin are one file, whichever form made it.
 */
import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ToolInputError } from './tool';

/** The longest file or folder name Linux and macOS file systems take (bytes of UTF-8). */
const NAME_MAX_BYTES = 255;

/** The most of one file that is read: a multi-gigabyte log must not fill the worker's memory (or V8's string limit). */
export const READ_MAX_BYTES = 8 * 1024 * 1024;

function inside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root + path.sep);
}

function leaves(relative: string): ToolInputError {
  return new ToolInputError(
    `path "${relative}" leaves the workspace; use a relative path inside it, e.g. "notes/a.txt"`,
  );
}

/**
 * The real absolute path of `written` (in NFC) inside `workspaceDir` (links inside the workspace resolved; the part that does
 * not exist yet appended as is), or a ToolInputError when any component would lead outside it.
 */
export async function resolveInWorkspace(workspaceDir: string, written: string): Promise<string> {
  const relative = written.normalize('NFC');
  // Refused here with a message the model can act on; fs would throw a TypeError naming the worker's absolute path.
  if (relative.includes('\0')) throw new ToolInputError(`path ${JSON.stringify(relative)} contains a NUL character`);
  const long = relative.split(/[\\/]/).find((part) => Buffer.byteLength(part) > NAME_MAX_BYTES);
  if (long !== undefined) {
    throw new ToolInputError(
      `the name "${long.slice(0, 40)}…" is ${Buffer.byteLength(long)} bytes; a file or folder name is at most ` +
        `${NAME_MAX_BYTES} bytes (UTF-8)`,
    );
  }
  await fs.mkdir(workspaceDir, { recursive: true });
  const root = await fs.realpath(workspaceDir);
  const lexical = path.resolve(root, relative);
  if (!inside(root, lexical)) throw leaves(relative);
  const parts = path.relative(root, lexical).split(path.sep).filter(Boolean);
  let at = root;
  for (let index = 0; index < parts.length; index++) {
    const next = path.join(at, await existingName(at, parts[index]));
    const stat = await fs.lstat(next).catch(() => undefined);
    if (!stat) return path.join(next, ...parts.slice(index + 1));
    if (stat.isSymbolicLink()) {
      const target = await fs.realpath(next).catch(() => undefined);
      if (target === undefined) {
        throw new ToolInputError(`path "${relative}" goes through a link that points nowhere; links are not followed`);
      }
      if (!inside(root, target)) throw leaves(relative);
      at = target;
    } else at = next;
  }
  return at;
}

/**
 * The name under which `folder` holds `name` (NFC): `name` itself, else the entry whose NFC form it is (a file made in
 * NFD outside tandem), else `name`, for a file not made yet.
 */
async function existingName(folder: string, name: string): Promise<string> {
  if (await fs.lstat(path.join(folder, name)).catch(() => undefined)) return name;
  const entries = await fs.readdir(folder).catch(() => [] as string[]);
  return entries.find((entry) => entry !== name && entry.normalize('NFC') === name) ?? name;
}

/**
 * A file with more than one name may have one outside the workspace: a hard link is a plain file to `lstat`, so
 * reading it would read, and writing it would change, a file the workspace does not own.
 */
function refuseHardLink(relative: string, links: number): void {
  if (links > 1) {
    throw new ToolInputError(
      `"${relative}" is a hard link (the file has ${links} names, some maybe outside the workspace); links are not ` +
        'followed, so write a new file instead',
    );
  }
}

/**
 * Writes `content` to `relative`, creating its folders, with the path checked by {@link resolveInWorkspace} and the
 * file opened without following a link at the leaf.
 */
export async function writeInWorkspace(workspaceDir: string, relative: string, content: string): Promise<void> {
  const file = await resolveInWorkspace(workspaceDir, relative);
  await fs.mkdir(path.dirname(file), { recursive: true });
  // The folders just made could have been swapped for links meanwhile: check the parent again before opening.
  const root = await fs.realpath(workspaceDir);
  if (!inside(root, await fs.realpath(path.dirname(file)))) throw leaves(relative);
  // Not truncated on open: a hard link must be refused before its other name's content is gone.
  const handle = await fs
    .open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW, 0o644)
    .catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ELOOP') throw new ToolInputError(`"${relative}" is a link; links are not written through`);
      if (err.code === 'EISDIR') throw new ToolInputError(`"${relative}" is a folder; choose a file name`);
      throw err;
    });
  try {
    refuseHardLink(relative, (await handle.stat()).nlink);
    await handle.truncate(0);
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
}

/**
 * Opens `relative` for reading, the path checked by {@link resolveInWorkspace}, the leaf opened without following a
 * link, and a folder or a hard link refused; the caller closes the handle. Every reader of workspace files (the
 * tools, the milestone checks) opens through here, so none of them follows a link the others refuse.
 */
export async function openInWorkspace(workspaceDir: string, relative: string): Promise<fs.FileHandle> {
  const file = await resolveInWorkspace(workspaceDir, relative);
  const handle = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') {
      throw new ToolInputError(`no file "${relative}" in the workspace; list_files shows what exists`);
    }
    if (err.code === 'ELOOP') throw new ToolInputError(`"${relative}" changed into a link; links are not followed`);
    throw err;
  });
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new ToolInputError(`"${relative}" is not a file; use list_files for folders`);
    refuseHardLink(relative, stat.nlink);
    return handle;
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** Reads `relative` as text through {@link openInWorkspace}, at most {@link READ_MAX_BYTES} of it; `size` is the whole file's. */
export async function readInWorkspace(workspaceDir: string, relative: string): Promise<{ text: string; size: number }> {
  const handle = await openInWorkspace(workspaceDir, relative);
  try {
    const { size } = await handle.stat();
    const buffer = Buffer.alloc(Math.min(size, READ_MAX_BYTES));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return { text: buffer.subarray(0, bytesRead).toString('utf8'), size };
  } finally {
    await handle.close();
  }
}
