import { promises as fs } from 'node:fs';
import { z } from 'zod';
import { defineTool, ToolInputError } from './tool';
import { resolveInWorkspace } from './workspace';

export const listFiles = defineTool({
  name: 'list_files',
  description: "List a folder inside the goal's workspace (one entry per line; folders end with /).",
  input: z
    .object({ path: z.string().min(1).default('.').describe('Folder relative to the workspace; "." for its root') })
    .strict(),
  sideEffects: false,
  execute: async ({ path: relative }, { workspaceDir }) => {
    const folder = await resolveInWorkspace(workspaceDir, relative);
    const entries = await fs.readdir(folder, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      throw new ToolInputError(
        err.code === 'ENOTDIR' ? `"${relative}" is a file; use read_file` : `no folder "${relative}" in the workspace`,
      );
    });
    const names = entries.map((entry) => (entry.isDirectory() ? `${entry.name}/` : entry.name)).sort();
    return names.length === 0 ? '(empty folder)' : names.join('\n');
  },
  summarize: ({ path: relative }) => `list_files ${relative}`,
});
