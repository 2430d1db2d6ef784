/**
 * The goal's memory of denied calls: a call a person (or the approval timeout) denied is not put to a person again in
 * the same goal unchanged. A call is the same when its tool, its arguments (as data: key order does not matter) and the
 * text of the subtask it was made for are; an identical one is refused without asking, with the earlier denial as what
 * the model reads. One that a replan changed (other arguments, or another subtask text) is held again, and its request
 * says a similar call was denied before and why. Pure and sandbox-safe: the executor checks, the planner keeps the
 * memory in `GoalState` (so it survives continue-as-new) and hands it to every executor it starts, the CLI prints it.
 */
import { canonicalJson } from './canonical-json';
import { ARGUMENTS_PREVIEW_CHARS, preview } from './limits';

/** A call denied in this goal: who or what denied it, why and when, and the fingerprints it is compared by. */
export interface DeniedCall {
  callId: string;
  subtaskId: string;
  tool: string;
  /** A preview of the arguments, for the messages (the fingerprint is of the whole arguments). */
  arguments: string;
  argumentsKey: string;
  /** Fingerprint of the subtask's title, instructions and milestone the call was made for. */
  subtaskKey: string;
  /** The plan version the call's subtask belongs to, when a planner runs it (see {@link earlierDenial}). */
  planVersion?: number;
  /** `denied`: a person (`by` names them when the CLI could); `timed_out`: the approval timeout or time budget. */
  outcome: 'denied' | 'timed_out';
  by?: string;
  reason: string;
  /** ISO time of the denial (workflow clock). */
  at: string;
}

/** What a held call's request says about an earlier denial of a similar call, and what differs from it. */
export interface PriorDenial extends Omit<DeniedCall, 'argumentsKey' | 'subtaskKey' | 'planVersion'> {
  changed: Array<'arguments' | 'subtask'>;
}

/** Denials kept per goal: enough for any goal a person steers; the oldest go first, so the state stays bounded. */
export const MAX_DENIALS = 50;

/**
 * A 64-bit FNV-1a fingerprint in hex: workflow code has no crypto, and two calls that differ in their arguments
 * differ here for any practical purpose (this decides whether a call is put to a person, not a security boundary).
 */
function fingerprint(text: string): string {
  let low = 0x811c9dc5;
  let high = 0xcbf29ce4;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    low = Math.imul(low ^ code, 0x01000193) >>> 0;
    high = Math.imul(high ^ (code + low), 0x01000193) >>> 0;
  }
  return `${high.toString(16).padStart(8, '0')}${low.toString(16).padStart(8, '0')}`;
}

/**
 * The fingerprints of a call: its arguments as canonical JSON (a long call's content reference names all of it) and
 * its subtask's text.
 */
export function callFingerprints(
  call: { arguments: string; argumentsRef?: string },
  subtask: { title: string; instructions: string; milestone: string },
): { argumentsKey: string; subtaskKey: string } {
  let args: unknown = call.arguments;
  try {
    args = JSON.parse(call.arguments);
  } catch {
    // not JSON: compared as the text it is
  }
  return {
    argumentsKey: fingerprint(`${canonicalJson(args)}\u0000${call.argumentsRef ?? ''}`),
    subtaskKey: fingerprint(`${subtask.title}\u0000${subtask.instructions}\u0000${subtask.milestone}`),
  };
}

/** An earlier denial of this call: `identical` (refuse it without asking), `similar` (ask, and say so), or none. */
export type EarlierDenial = { kind: 'identical'; denial: DeniedCall } | { kind: 'similar'; prior: PriorDenial };

/** What a call is compared by: its fingerprints and, under a planner, the plan version of its subtask. */
export type CallKeys = ReturnType<typeof callFingerprints> & { planVersion?: number };

/**
 * The latest denial of the same call, else the latest of the same tool with what differs. The same call is the same
 * tool and arguments, made for the same subtask text or under the same plan: only a replan changes what a plan asks
 * for, so a call denied in one subtask is refused unchanged in another subtask of that plan (running at the same
 * time, or later). A tool name alone makes a call similar: the approver of `write_file b.txt` should know
 * `write_file a.txt` was denied, and why.
 */
export function earlierDenial(denials: readonly DeniedCall[], tool: string, keys: CallKeys): EarlierDenial | undefined {
  const sameTool = denials.filter((denial) => denial.tool === tool);
  const latestFirst = [...sameTool].reverse();
  const samePlan = (denial: DeniedCall) => keys.planVersion !== undefined && denial.planVersion === keys.planVersion;
  const identical = latestFirst.find(
    (denial) =>
      denial.argumentsKey === keys.argumentsKey && (denial.subtaskKey === keys.subtaskKey || samePlan(denial)),
  );
  if (identical) return { kind: 'identical', denial: identical };
  const similar = latestFirst.find((denial) => denial.argumentsKey === keys.argumentsKey) ?? latestFirst[0];
  if (!similar) return undefined;
  const { argumentsKey, subtaskKey, ...shown } = similar;
  // The plan version decides identity; the request shows who denied what, and why.
  delete shown.planVersion;
  const changed: PriorDenial['changed'] = [];
  if (argumentsKey !== keys.argumentsKey) changed.push('arguments');
  if (subtaskKey !== keys.subtaskKey) changed.push('subtask');
  return { kind: 'similar', prior: { ...shown, changed } };
}

/**
 * Adds a denial to the memory (once per call), dropping the oldest past {@link MAX_DENIALS}; returns whether it was
 * new.
 */
export function rememberDenial(denials: DeniedCall[], denial: DeniedCall): boolean {
  if (denials.some((known) => known.callId === denial.callId)) return false;
  denials.push({ ...denial, arguments: preview(denial.arguments, ARGUMENTS_PREVIEW_CHARS) });
  if (denials.length > MAX_DENIALS) denials.splice(0, denials.length - MAX_DENIALS);
  return true;
}

/** Who or what denied a call, and when: `a person (alice) at T` or `the approval timeout at T`. */
export function deniedBy(denial: Pick<DeniedCall, 'outcome' | 'by' | 'at'>): string {
  const who = denial.outcome === 'timed_out' ? 'the approval timeout' : `a person${denial.by ? ` (${denial.by})` : ''}`;
  return `${who} at ${denial.at}`;
}

/** What the model reads for a call refused without asking: the earlier denial, and what would be asked again. */
export function repeatRefusedObservation(tool: string, denial: DeniedCall): string {
  return (
    `the call to ${tool} was not run: an identical call (${denial.callId}, subtask ${denial.subtaskId}) was denied ` +
    `earlier in this goal by ${deniedBy(denial)} (${denial.reason}), and an unchanged call is not put to a person ` +
    'again; change it as the reason asks, or finish without it'
  );
}

/** The line a held call's request carries about a similar call denied before (`approvals`, `status`, the Web UI). */
export function priorDenialLine(prior: PriorDenial): string {
  return (
    `a similar call was denied before: ${prior.tool} ${preview(prior.arguments, 120)} (${prior.callId}) by ` +
    `${deniedBy(prior)} (${prior.reason}); this one differs in its ${prior.changed.join(' and ')}`
  );
}
