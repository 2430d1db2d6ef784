/**
 * Loops are named: the same tool call with the same arguments {@link REPEATED_CALL_LIMIT} times in a row is told to
 * the model as repetition, instead of being left to the budgets to stop (issue 19: `calculator {"expression":"1+1"}`
 * eighty times over). Pure, so it is unit-tested without a server; the executor keeps its state and adds the note.
 */
import { canonicalJson } from '../../common/canonical-json';
import { ARGUMENTS_PREVIEW_CHARS, preview } from '../../common/limits';
import type { ToolCall } from '../../common/types';

/**
 * Identical calls in a row that count as repetition: two may be a retry after a transient failure, a third of the same
 * call is a loop.
 */
export const REPEATED_CALL_LIMIT = 3;

/** The latest call's identity and how many times in a row it was made; plain data, carried across continue-as-new. */
export interface RepetitionState {
  signature: string;
  count: number;
}

/** What the calls of one step did to the run of identical calls. */
export interface RepetitionCheck {
  state: RepetitionState;
  /** Set when the step ended a run of at least {@link REPEATED_CALL_LIMIT} identical calls: what the model is told. */
  note?: string;
}

/** A call's identity: its name and its arguments as canonical JSON (key order does not matter). */
function signatureOf(call: Pick<ToolCall, 'name' | 'arguments'>): string {
  let args: unknown = call.arguments;
  try {
    args = JSON.parse(call.arguments);
  } catch {
    // not JSON: compared as the text it is
  }
  return `${call.name}\u0000${canonicalJson(args)}`;
}

/** Follows the run of identical calls through one step's calls, in the model's order. */
export function checkRepetition(
  previous: RepetitionState | undefined,
  calls: ReadonlyArray<Pick<ToolCall, 'name' | 'arguments'>>,
): RepetitionCheck {
  let state = previous;
  for (const call of calls) {
    const signature = signatureOf(call);
    state = state?.signature === signature ? { signature, count: state.count + 1 } : { signature, count: 1 };
  }
  if (!state) return { state: { signature: '', count: 0 } };
  const last = calls.at(-1);
  if (!last || state.count < REPEATED_CALL_LIMIT) return { state };
  return {
    state,
    note:
      `you have called ${last.name} with the same arguments ${state.count} times in a row (${preview(last.arguments, ARGUMENTS_PREVIEW_CHARS)}); ` +
      'calling it again will give the same result. Use the results you have, try a different call, or give your ' +
      'final answer',
  };
}
