/**
 * Temporal's size limits and how tandem stays under them by construction. Sandbox-safe (no Node built-ins): workflows
 * bound what they record with these helpers, activities and the client use the same numbers.
 *
 * The server refuses any payload over 2 MB (`limit.blobSize.error`), and an over-limit workflow task completion fails
 * *retryably* (TMPRL1103): the task loops forever and the run is stuck. So every value tandem puts into history is
 * bounded where it is made: large text travels as a content-store reference (`sha256:...`), records keep previews.
 */

/** Temporal's per-payload limit (`limit.blobSize.error`). */
export const PAYLOAD_LIMIT_BYTES = 2 * 1024 * 1024;
/** What tandem allows itself for any one payload: headroom for the envelope and the other arguments. */
export const PAYLOAD_BUDGET_BYTES = 1_500_000;
/** A tool call's raw arguments as kept in records (`toolCalls[].arguments`); the transcript keeps them whole. */
export const ARGUMENTS_PREVIEW_CHARS = 2_000;
/**
 * A tool call's arguments travel inline into workflow history up to this many characters; longer ones (a model writing
 * a big file) are stored whole and referenced (`argumentsRef`), with a shortened copy inline (activities/large-arguments.ts).
 */
export const ARGUMENTS_INLINE_CHARS = 64_000;
/** One line of an executor's evidence (observations quoted for the judge). */
export const EVIDENCE_LINE_CHARS = 1_000;
/** Tool-call records an executor keeps (the latest); `toolCallCount` says how many there were in all. */
export const TOOL_CALL_RECORDS = 100;
/** `TandemGoal` (Text): the server's default `limit.searchAttributeValueSize` is 2 KB; cut with room to spare. */
export const GOAL_ATTRIBUTE_BYTES = 1_800;
/** The Web UI summary of a goal: the server caps a summary at 400 bytes. */
export const GOAL_SUMMARY_BYTES = 200;
/** A goal's text travels inline up to this size; a longer one is stored and passed as `goalRef` with a preview. */
export const GOAL_INLINE_BYTES = 16_000;
/** The preview of a goal passed by reference (what `progress`, `list` and the Web UI show). */
export const GOAL_PREVIEW_BYTES = 2_000;
/** One interrupt message; larger context belongs in a file or a replan. */
export const INTERRUPT_MESSAGE_CHARS = 8_000;
/**
 * Interrupt text per signal, child input or model call. A storm of interrupts is delivered in batches of this size,
 * so however many arrive at once, no one payload nears the limit.
 */
export const INTERRUPT_BATCH_BYTES = 256_000;
/**
 * One step's tool outputs together, as the next model call's input carries them: each call of the step gets an equal
 * share, so however many calls a reply makes, that input stays under the payload limit with an interrupt batch.
 */
export const OBSERVATIONS_BUDGET_BYTES = 1_000_000;
/**
 * Characters of a model reply's text that travel into workflow history; a longer reply is stored whole in the content
 * store and referenced (`contentRef`). Temporal caps one payload at 2 MB and a history at 50 MB, so a reply near a
 * model's output limit must not be carried inline through every result that quotes it. A plan must fit: it is kept.
 */
export const REPLY_INLINE_CHARS = 64_000;
/** An answer, partial or evidence as quoted in the goal's result, `progress` or continue-as-new state. */
export const RESULT_TEXT_CHARS = 8_000;
/** Tool-call records per subtask in the goal's result (the child's own result keeps {@link TOOL_CALL_RECORDS}). */
export const GOAL_RESULT_TOOL_CALLS = 20;

/** UTF-8 size of `text`, without `Buffer` or `TextEncoder` (works in the workflow sandbox). */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** `text` cut to at most `maxBytes` of UTF-8 (never inside a character), with `suffix` when cut. */
export function cutToBytes(text: string, maxBytes: number, suffix = '…'): string {
  if (utf8Bytes(text) <= maxBytes) return text;
  const room = maxBytes - utf8Bytes(suffix);
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = utf8Bytes(char);
    if (bytes + size > room) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end) + suffix;
}

/**
 * The first `maxChars` UTF-16 units of `text`, one fewer when the cut would split a surrogate pair (an emoji, most
 * CJK extensions): a lone half is not Unicode, and model servers refuse a request that carries one (llama.cpp's JSON
 * parser rejects the escape, Python servers fail to encode it), which would end a run over a trimmed observation.
 */
export function sliceChars(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const last = text.charCodeAt(maxChars - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? maxChars - 1 : Math.max(0, maxChars));
}

/** A value quoted in a message (a string as is, anything else as JSON), cut to `maxChars` characters with `...`. */
export function snippet(value: unknown, maxChars: number): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.length > maxChars ? `${sliceChars(text, maxChars)}...` : text;
}

/** `text` cut to `maxChars` characters (never inside a character) with a note saying how long it was. */
export function preview(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const kept = sliceChars(text, maxChars);
  return `${kept}… [${text.length - kept.length} more characters not kept here]`;
}

/** The serialized size of a value as Temporal's JSON converter would send it. */
export function payloadBytes(value: unknown): number {
  return utf8Bytes(JSON.stringify(value) ?? '');
}

/**
 * `messages` split, in order, into batches of at most {@link INTERRUPT_BATCH_BYTES} as JSON (escapes counted: a
 * control character takes 6 bytes there); a message never exceeds one batch ({@link INTERRUPT_MESSAGE_CHARS}).
 */
export function interruptBatches(messages: readonly string[]): string[][] {
  const out: string[][] = [];
  let size = Infinity;
  for (const message of messages) {
    const bytes = payloadBytes(message) + 1;
    if (size + bytes > INTERRUPT_BATCH_BYTES) {
      out.push([]);
      size = 0;
    }
    out[out.length - 1].push(message);
    size += bytes;
  }
  return out;
}

const CONTENT_MARKER = /⟦tandem-content (sha256:[0-9a-f]{64})⟧/g;

/**
 * A placeholder for stored text inside a prompt: the `callModel` activity replaces it with the text before the model
 * sees it, so a workflow can send a goal of any size without carrying it in history.
 */
export function contentMarker(ref: string): string {
  return `⟦tandem-content ${ref}⟧`;
}

/** The references of every {@link contentMarker} in `text`. */
export function contentMarkersIn(text: string): string[] {
  return [...text.matchAll(CONTENT_MARKER)].map((found) => found[1]);
}

/** `text` with every {@link contentMarker} replaced by `lookup(ref)`. */
export async function expandContentMarkers(text: string, lookup: (ref: string) => Promise<string>): Promise<string> {
  const refs = contentMarkersIn(text);
  if (refs.length === 0) return text;
  const found = new Map<string, string>();
  for (const ref of refs) found.set(ref, await lookup(ref));
  return text.replace(CONTENT_MARKER, (_, ref: string) => found.get(ref) ?? '');
}
