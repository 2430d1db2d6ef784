/**
 * Tool-call arguments too large for workflow history (a model writing a multi-megabyte file in one `write_file`) travel
 * by reference: `callModel` stores them whole in the content store and gives the workflow a shortened copy, and
 * `runTool` hands the tool the whole text again. The shortened copy is still the same JSON object, each long string cut
 * with a note, so everything the workflow does with arguments (check them, summarise the call as `write_file
 * notes.txt`, preview it for an approval, quote it as evidence) works unchanged and deterministically.
 */
import { ARGUMENTS_INLINE_CHARS, sliceChars } from '../common/limits';
import type { ToolCall } from '../common/types';
import type { ContentStore } from './content-store';

/** Characters kept of each long string value in the shortened copy. */
const STRING_PREVIEW_CHARS = 1_000;

function shortenValue(value: unknown): unknown {
  if (typeof value === 'string') {
    if (value.length <= STRING_PREVIEW_CHARS) return value;
    const kept = sliceChars(value, STRING_PREVIEW_CHARS);
    return `${kept}… [${value.length - kept.length} more characters; the tool gets them whole]`;
  }
  if (Array.isArray(value)) return value.map(shortenValue);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, shortenValue(inner)]));
  }
  return value;
}

/** The arguments JSON with long strings cut; `{}` when even that stays too long (thousands of short fields). */
function shortened(argumentsJson: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(argumentsJson);
  } catch {
    return '{}';
  }
  const text = JSON.stringify(shortenValue(parsed));
  return text.length <= ARGUMENTS_INLINE_CHARS ? text : '{}';
}

/**
 * The calls of one reply as the workflow gets them: arguments inline while the reply's total stays within
 * {@link ARGUMENTS_INLINE_CHARS}, and past that stored, with a shortened copy inline. A total, not a per-call bound:
 * a reply of many mid-sized calls must fit the activity's result too.
 */
export async function inlineArguments(store: ContentStore, calls: ToolCall[]): Promise<ToolCall[]> {
  let inline = 0;
  const kept: ToolCall[] = [];
  for (const call of calls) {
    if (inline + call.arguments.length <= ARGUMENTS_INLINE_CHARS) {
      inline += call.arguments.length;
      kept.push(call);
    } else {
      kept.push({ ...call, arguments: shortened(call.arguments), argumentsRef: await store.put(call.arguments) });
    }
  }
  return kept;
}

/** The whole arguments JSON of a call, read back from the store when it travelled by reference. */
export async function fullArguments(store: ContentStore, call: ToolCall): Promise<string> {
  return call.argumentsRef ? store.get(call.argumentsRef) : call.arguments;
}
