import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { defineTool } from './tool';
import { resolveInWorkspace } from './workspace';

export const writeFile = defineTool({
  name: 'write_file',
  description:
    "Write a UTF-8 text file inside the goal's workspace (creating folders as needed), replacing any file there.",
  input: z
    .object({
      path: z.string().min(1).describe('Path relative to the workspace, e.g. "notes/answer.txt"'),
      content: z.string().describe('The full text to write'),
    })
    .strict(),
  sideEffects: true,
  execute: async ({ path: relative, content }, { workspaceDir }) => {
    const file = await resolveInWorkspace(workspaceDir, relative);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, content);
    return `wrote ${Buffer.byteLength(content)} bytes to ${relative}`;
  },
  summarize: ({ path: relative }) => `write_file ${relative}`,
});
