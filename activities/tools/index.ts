/** The tool registry: every built-in tool by name. Typed by TOOL_NAMES, so adding a name without a tool fails to compile. */
import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import type { ToolName } from '../../workflows/definitions';
import { jsonSchemaOf } from '../../workflows/json-schema';
import { calculator } from './calculator';
import { escalate } from './escalate';
import { httpGet } from './http-get';
import { listFiles } from './list-files';
import { readFile } from './read-file';
import type { Tool } from './tool';
import { writeFile } from './write-file';

export const toolRegistry: Record<ToolName, Tool> = {
  calculator: calculator as Tool,
  read_file: readFile as Tool,
  write_file: writeFile as Tool,
  list_files: listFiles as Tool,
  http_get: httpGet as Tool,
  escalate: escalate as Tool,
};

/** The tools as the model sees them: name, description and the JSON schema generated from the zod input schema. */
export function toolDefinitions(names: readonly ToolName[]): ChatCompletionTool[] {
  return names.map((name) => {
    const tool = toolRegistry[name];
    return {
      type: 'function',
      function: { name, description: tool.description, parameters: jsonSchemaOf(tool.input) },
    };
  });
}
