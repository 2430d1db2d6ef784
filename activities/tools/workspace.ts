/**
 * Confinement of file tools to the goal's workspace, checked at the moment of each operation.
 *
 * A path is walked one component at a time from the workspace's real path, with `lstat`: a component that is a link is
 * followed only when its target exists and is inside the workspace; a link pointing out, a dangling link (which a write
 * would otherwise create outside) and a linked parent folder pointing out are refused. Writes then open the checked
 * path with `O_NOFOLLOW`, so a link planted at the leaf between the check and the write is refused too.
 */
import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ToolInputError } from './tool';

function inside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root + path.sep);
}

function leaves(relative: string): ToolInputError {
  return new ToolInputError(
    `path "${relative}" leaves the workspace; use a relative path inside it, e.g. "notes/a.txt"`,
  );
}

/**
 * The real absolute path of `relative` inside `workspaceDir` (links inside the workspace resolved; the part that does
 * not exist yet appended as is), or a ToolInputError when any component would lead outside it.
 */
export async function resolveInWorkspace(workspaceDir: string, relative: string): Promise<string> {
  await fs.mkdir(workspaceDir, { recursive: true });
  const root = await fs.realpath(workspaceDir);
  const lexical = path.resolve(root, relative);
  if (!inside(root, lexical)) throw leaves(relative);
  const parts = path.relative(root, lexical).split(path.sep).filter(Boolean);
  let at = root;
  for (let index = 0; index < parts.length; index++) {
    const next = path.join(at, parts[index]);
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
 * Writes `content` to `relative`, creating its folders, with the path checked by {@link resolveInWorkspace} and the
 * file opened without following a link at the leaf.
 */
export async function writeInWorkspace(workspaceDir: string, relative: string, content: string): Promise<void> {
  const file = await resolveInWorkspace(workspaceDir, relative);
  await fs.mkdir(path.dirname(file), { recursive: true });
  // The folders just made could have been swapped for links meanwhile: check the parent again before opening.
  const root = await fs.realpath(workspaceDir);
  if (!inside(root, await fs.realpath(path.dirname(file)))) throw leaves(relative);
  const handle = await fs
    .open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644)
    .catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ELOOP') throw new ToolInputError(`"${relative}" is a link; links are not written through`);
      if (err.code === 'EISDIR') throw new ToolInputError(`"${relative}" is a folder; choose a file name`);
      throw err;
    });
  try {
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
}

/** Reads `relative` as text, the path checked by {@link resolveInWorkspace} and the leaf opened without following. */
export async function readInWorkspace(workspaceDir: string, relative: string): Promise<string> {
  const file = await resolveInWorkspace(workspaceDir, relative);
  const handle = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') {
      throw new ToolInputError(`no file "${relative}" in the workspace; list_files shows what exists`);
    }
    if (err.code === 'ELOOP') throw new ToolInputError(`"${relative}" changed into a link; links are not followed`);
    throw err;
  });
  try {
    if (!(await handle.stat()).isFile()) {
      throw new ToolInputError(`"${relative}" is not a file; use list_files for folders`);
    }
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}
