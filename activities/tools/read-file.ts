import { promises as fs } from 'node:fs';
import { z } from 'zod';
import { defineTool, ToolInputError } from './tool';
import { resolveInWorkspace } from './workspace';

export const readFile = defineTool({
  name: 'read_file',
  description: "Read a UTF-8 text file inside the goal's workspace.",
  input: z
    .object({ path: z.string().min(1).describe('Path relative to the workspace, e.g. "notes/answer.txt"') })
    .strict(),
  sideEffects: false,
  execute: async ({ path: relative }, { workspaceDir }) => {
    const file = await resolveInWorkspace(workspaceDir, relative);
    const stat = await fs.stat(file).catch(() => undefined);
    if (!stat) throw new ToolInputError(`no file "${relative}" in the workspace; list_files shows what exists`);
    if (!stat.isFile()) throw new ToolInputError(`"${relative}" is not a file; use list_files for folders`);
    return fs.readFile(file, 'utf8');
  },
  summarize: ({ path: relative }) => `read_file ${relative}`,
});
