/**
 * Confinement of file tools to the goal's workspace. A path is refused when, after resolving `..` and every
 * symlink of the part that exists, it lands outside the workspace folder.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ToolInputError } from './tool';

async function realpathOfNearestExisting(target: string): Promise<string> {
  let existing = target;
  const missing: string[] = [];
  for (;;) {
    try {
      return path.join(await fs.realpath(existing), ...missing.reverse());
    } catch {
      const parent = path.dirname(existing);
      if (parent === existing) return target;
      missing.push(path.basename(existing));
      existing = parent;
    }
  }
}

/** The absolute path of `relative` inside `workspaceDir`, or a ToolInputError when it would escape. */
export async function resolveInWorkspace(workspaceDir: string, relative: string): Promise<string> {
  await fs.mkdir(workspaceDir, { recursive: true });
  const root = await fs.realpath(workspaceDir);
  const resolved = await realpathOfNearestExisting(path.resolve(root, relative));
  if (resolved !== root && !resolved.startsWith(root + path.sep)) {
    throw new ToolInputError(
      `path "${relative}" leaves the workspace; use a relative path inside it, e.g. "notes/a.txt"`,
    );
  }
  return resolved;
}
