import { writeFileTool } from '../../common/tools';
import { defineHandler } from './tool';
import { writeInWorkspace } from './workspace';

export const writeFile = defineHandler(writeFileTool, async ({ path: relative, content }, { workspaceDir }) => {
  await writeInWorkspace(workspaceDir, relative, content);
  return `wrote ${Buffer.byteLength(content)} bytes to ${relative}`;
});
