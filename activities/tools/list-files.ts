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
  const names = entries.map((entry) => (entry.isDirectory() ? `${entry.name}/` : entry.name)).sort();
  return names.length === 0 ? '(empty folder)' : names.join('\n');
});
