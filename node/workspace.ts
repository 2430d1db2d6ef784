/**
 * Where a goal's files live: the worker's file tools write there (activities/run-tool.ts) and `tandem result` prints
 * it. Node-side and shared, so the CLI need not load the tools (and their libraries) to name a folder.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';

/**
 * Maps a workspace name (a goal id) to its folder: a readable part (characters outside [A-Za-z0-9._-] replaced, at most
 * 64) and a hash of the exact name, so two names never share a folder whatever characters they contain ("a/b" and
 * "a_b", names that differ only in case or past the 64th character), and no name can nest or escape.
 */
export function workspaceDir(workspaceRoot: string, workspace: string): string {
  const readable = workspace
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .replace(/^\.+/, '_')
    .slice(0, 64);
  const hash = createHash('sha256').update(workspace).digest('hex').slice(0, 16);
  return path.join(path.resolve(workspaceRoot), `${readable}-${hash}`);
}
