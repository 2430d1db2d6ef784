/**
 * The tool handlers by name. Typed by the definitions' names, so adding a tool without a handler fails to compile.
 * `escalate` has none: the executor workflow handles it itself.
 */
import type { RunnableToolName } from '../../common/tools';
import { calculator } from './calculator';
import { httpGet } from './http-get';
import { listFiles } from './list-files';
import { readFile } from './read-file';
import type { ToolHandler } from './tool';
import { writeFile } from './write-file';

export const toolHandlers: Record<RunnableToolName, ToolHandler> = {
  calculator: calculator as ToolHandler,
  read_file: readFile as ToolHandler,
  write_file: writeFile as ToolHandler,
  list_files: listFiles as ToolHandler,
  http_get: httpGet as ToolHandler,
};
