/**
 * The judge's verdict read out of its reply as leniently as a plan is: a weak judge model wraps it in a fence or prose,
 * writes `"met": "true"`, adds fields (`"confidence"`) or leaves out the reason. Each of these has one meaning, and
 * reading it as "not met" would throw a subtask's finished work away on a replan. Pure, so the planner can replay it.
 */
import { readJson, isJsonObject } from '../../common/lenient-json';
import { verdictSchema, type Verdict } from '../../common/types';

/** `true`, `"true"`, `"yes"` and their opposites as a boolean; anything else unchanged (and refused by the schema). */
function booleanOf(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const word = value.trim().toLowerCase();
  return word === 'true' || word === 'yes' ? true : word === 'false' || word === 'no' ? false : value;
}

/** The verdict in `content`, or undefined when there is none to read. */
export function readVerdict(content: string | null): Verdict | undefined {
  const read = readJson(content, 'verdict');
  if (!read.ok || !isJsonObject(read.json)) return undefined;
  const { met, reason } = read.json;
  const parsed = verdictSchema.safeParse({
    met: booleanOf(met),
    reason: typeof reason === 'string' && reason.trim() !== '' ? reason : 'the judge gave no reason',
  });
  return parsed.success ? parsed.data : undefined;
}
