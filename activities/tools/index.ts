/** The tool registry: every built-in tool by name. Typed by TOOL_NAMES, so adding a name without a tool fails to compile. */
import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import type { ToolName } from '../../workflows/definitions';
import { jsonSchemaOf } from '../../workflows/json-schema';
import { calculator } from './calculator';
import type { Tool } from './tool';
import { writeFile } from './write-file';

export const toolRegistry: Record<ToolName, Tool> = {
  calculator: calculator as Tool,
  write_file: writeFile as Tool,
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
