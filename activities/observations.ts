/**
 * Phase 5's size guard: a tool output above `TANDEM_OBSERVATION_LIMIT` reaches the model trimmed with a note, while
 * the full text goes to the content store. The model's transcript only ever holds the trimmed text, so the full output
 * is not re-sent on every later step; the user reads it by reference (`readStoredOutput`).
 */
import { sliceChars } from '../common/limits';
import type { ContentStore } from './content-store';

/** What the model sees of one tool output, and where the full text is when it was trimmed. */
export interface Observation {
  output: string;
  outputRef?: string;
}

const ASK_FOR_LESS = 'Ask for a smaller part (e.g. a narrower file or URL) if you need more.';

/**
 * Trims `output` to `limit` characters when longer, storing the full text and naming its reference in the note;
 * `hint` ends the note (by default it tells the model how to get the rest of a tool output).
 */
export async function trimObservation(
  output: string,
  limit: number,
  store: ContentStore,
  hint: string = ASK_FOR_LESS,
): Promise<Observation> {
  if (output.length <= limit) return { output };
  const outputRef = await store.put(output);
  const note =
    `\n[trimmed: showing the first ${limit} of ${output.length} characters; the full output is stored as ` +
    `${outputRef}. ${hint}]`;
  return { output: sliceChars(output, limit) + note, outputRef };
}
