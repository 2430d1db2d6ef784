import { promises as fs } from 'node:fs';
import { listFilesTool } from '../../common/tools';
import { defineHandler, ToolInputError } from './tool';
import { resolveInWorkspace } from './workspace';

export const listFiles = defineHandler(listFilesTool, async ({ path: relative }, { workspaceDir }) => {
  const folder = await resolveInWorkspace(workspaceDir, relative);
  const entries = await fs.readdir(folder, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    throw new ToolInputError(
      err.code === 'ENOTDIR' ? `"${relative}" is a file; use read_file` : `no folder "${relative}" in the workspace`,
    );
  });
  // NFC, the form every tool resolves names in (./workspace.ts): a name made in NFD is listed as the model will write it.
  const names = entries.map((entry) => entry.name.normalize('NFC') + (entry.isDirectory() ? '/' : '')).sort();
  return names.length === 0 ? '(empty folder)' : names.join('\n');
});
