/**
 * Phase 2 of both loops, reasoning: the one activity that calls the model. The planner, the judge and the executors
 * all reason through it.
 *
 * The conversation is kept by reference (see ./transcripts.ts): the workflow sends only the messages that are new since
 * its last call, and gets back the reference of the transcript extended by them and by the model's reply.
 */
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { CallModelInput, CallModelOutput, ChatMessage, ToolCall } from '../common/types';
import { ApplicationFailure } from '@temporalio/activity';
import { FailureType } from '../common/failures';
import type { ActivityDeps } from './deps';
import { trimObservation } from './observations';
import { createChatCompletion } from './model-client';
import { toolSpecs } from '../common/tools';
import { appendToTranscript, loadTranscript } from './transcripts';
import { mcpToolSpecs } from './mcp/discovery';

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

export async function callModel(deps: ActivityDeps, input: CallModelInput): Promise<CallModelOutput> {
  const { store } = deps;
  const prompt = await appendToTranscript(store, input.transcript, input.append);
  const messages = await loadTranscript(store, prompt);
  const tools = [...toolSpecs(input.tools), ...(await mcpToolSpecs(store, input.mcpTools))];
  const completion = await createChatCompletion(
    deps.config.model,
    {
      messages: messages.map(toOpenAI),
      ...(tools.length ? { tools } : {}),
      ...(input.responseFormat
        ? {
            response_format: {
              type: 'json_schema',
              json_schema: { name: input.responseFormat.name, schema: input.responseFormat.schema, strict: false },
            },
          }
        : {}),
    },
    {
      'X-Tandem-Purpose': input.purpose,
      ...(input.subtaskId ? { 'X-Tandem-Subtask': input.subtaskId } : {}),
    },
  );
  const choice = completion.choices[0];
  const toolCalls: ToolCall[] = (choice.message.tool_calls ?? []).flatMap((call) =>
    call.type === 'function' ? [{ id: call.id, name: call.function.name, arguments: call.function.arguments }] : [],
  );
  const reply: ChatMessage = { role: 'assistant', content: choice.message.content ?? null, toolCalls };
  // The transcript keeps the whole reply; the workflow gets a bounded copy (see REPLY_INLINE_LIMIT).
  const inline =
    reply.content === null
      ? null
      : await trimObservation(reply.content, REPLY_INLINE_LIMIT, store, 'Read it with: tandem output <goal id> <ref>.');
  const output: CallModelOutput = {
    transcript: await appendToTranscript(store, prompt, [reply]),
    content: inline?.output ?? null,
    ...(inline?.outputRef ? { contentRef: inline.outputRef } : {}),
    toolCalls,
    finishReason: choice.finish_reason ?? 'stop',
    usage: {
      promptTokens: completion.usage?.prompt_tokens ?? 0,
      completionTokens: completion.usage?.completion_tokens ?? 0,
    },
  };
  return guardPayloadSize(output);
}

/**
 * Characters of a reply's text that travel into workflow history; a longer reply is stored whole in the content store
 * and referenced (`contentRef`). Temporal caps one payload at 2 MB and a history at 50 MB, so a reply near a model's
 * output limit must not be carried inline through every result that quotes it.
 */
const REPLY_INLINE_LIMIT = 64_000;

/** Well under Temporal's 2 MB payload limit, which would otherwise fail the activity's completion retryably forever. */
const MAX_OUTPUT_BYTES = 1_500_000;

/** Fails fast, without retries, on a reply that is still too big after trimming (huge tool-call arguments). */
function guardPayloadSize(output: CallModelOutput): CallModelOutput {
  const bytes = Buffer.byteLength(JSON.stringify(output));
  if (bytes > MAX_OUTPUT_BYTES) {
    throw ApplicationFailure.nonRetryable(
      `the model's reply is ${bytes} bytes once trimmed, over the ${MAX_OUTPUT_BYTES}-byte limit for workflow ` +
        'history (its tool-call arguments are too large); ask for smaller steps, e.g. write a file in parts',
      FailureType.ModelReplyTooLarge,
    );
  }
  return output;
}
