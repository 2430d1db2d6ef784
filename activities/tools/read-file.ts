import { readFileTool } from '../../common/tools';
import { defineHandler } from './tool';
import { readInWorkspace } from './workspace';

export const readFile = defineHandler(readFileTool, ({ path: relative }, { workspaceDir }) =>
  readInWorkspace(workspaceDir, relative),
);
