/**
 * Where a goal's files live: the worker's file tools write there (activities/run-tool.ts) and `tandem result` prints
 * it. Node-side and shared, so the CLI need not load the tools (and their libraries) to name a folder.
 */
import * as path from 'node:path';

/** Maps a workspace name to its folder; anything outside [A-Za-z0-9._-] is replaced so a name cannot nest or escape. */
export function workspaceDir(workspaceRoot: string, workspace: string): string {
  return path.join(workspaceRoot, workspace.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_'));
}
