import { promises as fs } from 'node:fs';
import { readFileTool } from '../../common/tools';
import { defineHandler, ToolInputError } from './tool';
import { resolveInWorkspace } from './workspace';

export const readFile = defineHandler(readFileTool, async ({ path: relative }, { workspaceDir }) => {
  const file = await resolveInWorkspace(workspaceDir, relative);
  const stat = await fs.stat(file).catch(() => undefined);
  if (!stat) throw new ToolInputError(`no file "${relative}" in the workspace; list_files shows what exists`);
  if (!stat.isFile()) throw new ToolInputError(`"${relative}" is not a file; use list_files for folders`);
  return fs.readFile(file, 'utf8');
});
