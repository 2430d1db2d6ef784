/**
 * Phase 5's size guard: a tool output above `TANDEM_OBSERVATION_LIMIT` reaches the model trimmed with a note, while
 * the full text goes to the content store. The model's transcript only ever holds the trimmed text, so the full output
 * is not re-sent on every later step; the user reads it by reference (`readStoredOutput`).
 */
import { payloadBytes, sliceChars } from '../common/limits';
import type { ContentStore } from './content-store';

/** What the model sees of one tool output, and where the full text is when it was trimmed. */
export interface Observation {
  output: string;
  outputRef?: string;
}

const ASK_FOR_LESS = 'Ask for a smaller part (e.g. a narrower file or URL) if you need more.';

/** The longest start of `text` whose JSON form (quotes left out, escapes counted) fits in `maxBytes`. */
function fitJsonBytes(text: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    bytes += payloadBytes(char) - 2;
    if (bytes > maxBytes) break;
    end += char.length;
  }
  return text.slice(0, end);
}

/**
 * Trims `output` to `limit` characters, and to `maxBytes` as JSON when given, when longer, storing the full text and
 * naming its reference in the note; `hint` ends the note (by default it tells the model how to get the rest of a tool
 * output).
 */
export async function trimObservation(
  output: string,
  limit: number,
  store: ContentStore,
  { hint = ASK_FOR_LESS, maxBytes }: { hint?: string; maxBytes?: number } = {},
): Promise<Observation> {
  if (output.length <= limit && (maxBytes === undefined || payloadBytes(output) <= maxBytes)) return { output };
  const outputRef = await store.put(output);
  const note = (shown: number) =>
    `\n[trimmed: showing the first ${shown} of ${output.length} characters; the full output is stored as ` +
    `${outputRef}. ${hint}]`;
  const kept = sliceChars(output, limit);
  // The note comes off the share first; with `limit` in it, it is at least as long as the note finally written.
  const shown = maxBytes === undefined ? kept : fitJsonBytes(kept, Math.max(0, maxBytes - payloadBytes(note(limit))));
  return { output: shown + note(shown.length), outputRef };
}
