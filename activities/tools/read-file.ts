import { readFileTool } from '../../common/tools';
import { defineHandler } from './tool';
import { READ_MAX_BYTES, readInWorkspace } from './workspace';

export const readFile = defineHandler(readFileTool, async ({ path: relative }, { workspaceDir }) => {
  const { text, size } = await readInWorkspace(workspaceDir, relative);
  return size > READ_MAX_BYTES ? `${text}\n[file cut off at ${READ_MAX_BYTES} of its ${size} bytes]` : text;
});
