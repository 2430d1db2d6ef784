import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileTool } from '../../common/tools';
import { defineHandler } from './tool';
import { resolveInWorkspace } from './workspace';

export const writeFile = defineHandler(writeFileTool, async ({ path: relative, content }, { workspaceDir }) => {
  const file = await resolveInWorkspace(workspaceDir, relative);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, content);
  return `wrote ${Buffer.byteLength(content)} bytes to ${relative}`;
});
