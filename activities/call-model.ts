/**
 * Phase 2 of both loops, reasoning: the one activity that calls the model. The planner, the judge and the executors
 * all reason through it.
 *
 * The conversation is kept by reference (see ./transcripts.ts): the workflow sends only the messages that are new since
 * its last call, and gets back the reference of the transcript extended by them and by the model's reply.
 */
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { CallModelInput, CallModelOutput, ChatMessage, ToolCall } from '../workflows/definitions';
import { contentStore } from './content-store';
import { createChatCompletion } from './model-client';
import { toolDefinitions } from './tools';
import { appendToTranscript, loadTranscript } from './transcripts';

function toOpenAI(message: ChatMessage): ChatCompletionMessageParam {
  switch (message.role) {
    case 'assistant':
      return {
        role: 'assistant',
        content: message.content,
        ...(message.toolCalls?.length
          ? {
              tool_calls: message.toolCalls.map((call) => ({
                id: call.id,
                type: 'function' as const,
                function: { name: call.name, arguments: call.arguments },
              })),
            }
          : {}),
      };
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
    default:
      return { role: message.role, content: message.content };
  }
}

export async function callModel(input: CallModelInput): Promise<CallModelOutput> {
  const store = contentStore();
  const prompt = await appendToTranscript(store, input.transcript, input.append);
  const messages = await loadTranscript(store, prompt);
  const completion = await createChatCompletion({
    messages: messages.map(toOpenAI),
    ...(input.tools.length ? { tools: toolDefinitions(input.tools) } : {}),
    ...(input.responseFormat
      ? {
          response_format: {
            type: 'json_schema',
            json_schema: { name: input.responseFormat.name, schema: input.responseFormat.schema, strict: false },
          },
        }
      : {}),
  });
  const choice = completion.choices[0];
  const toolCalls: ToolCall[] = (choice.message.tool_calls ?? []).flatMap((call) =>
    call.type === 'function' ? [{ id: call.id, name: call.function.name, arguments: call.function.arguments }] : [],
  );
  const reply: ChatMessage = { role: 'assistant', content: choice.message.content ?? null, toolCalls };
  return {
    transcript: await appendToTranscript(store, prompt, [reply]),
    content: reply.content,
    toolCalls,
    finishReason: choice.finish_reason ?? 'stop',
    usage: {
      promptTokens: completion.usage?.prompt_tokens ?? 0,
      completionTokens: completion.usage?.completion_tokens ?? 0,
    },
  };
}
