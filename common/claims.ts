/**
 * Claims of an effect that need the tool call that made it. A small model (or a judge that believes it) writes "I
 * wrote summary.txt" or "the email was sent" with no tool call behind it; tandem reads such claims in the subtask's
 * answer and the judge's reason, and a claim no successful tool call of the subtask backs makes the milestone not met,
 * whatever the judge said (workflows/planner/model-calls.ts). An effect no tool can have (sending mail with no mail
 * tool) is named as the missing tool.
 *
 * This is a heuristic net under the judge, not language understanding: it looks for past-tense verbs of writing,
 * sending and computing (English, Japanese, Spanish, French, German, Russian) in one sentence, skips sentences with a
 * negation, and skips a sentence whose verb and object both occur in the tool outputs (a summary that quotes a file
 * saying "the email was sent" claims nothing itself). It misses claims phrased otherwise and can flag a sentence that
 * only sounds like one; docs/checks.md lists its limits. Pure and sandbox-safe: the planner workflow runs it.
 */
import { namedFiles } from './checks';
import {
  claimedToSomeone,
  hasEffect,
  missingToolFor,
  negated,
  OUTSIDE_EFFECT_KINDS,
  OUTSIDE_EFFECTS,
  type OutsideEffectKind,
  sentences,
} from './outside-effects';
import type { ToolCallRecord } from './types';

/** An effect a text claims happened. */
export type Claim =
  | { kind: 'file_written'; files: string[]; sentence: string }
  | { kind: OutsideEffectKind; sentence: string }
  | { kind: 'value_computed'; sentence: string };

/** A claim no successful tool call backs; `missingTool` when no tool offered or called could have made it. */
export interface UnbackedClaim {
  claim: Claim;
  why: string;
  missingTool?: string;
}

/** What a subtask did and could do, as the claim check needs it. */
export interface ClaimContext {
  toolCalls: ToolCallRecord[];
  /** Tool names the subtask was offered (absent: every built-in and any MCP tool). */
  offeredTools?: string[];
  /** The tool outputs the model saw (the result's evidence without its answer): text quoted from them is no claim. */
  observations: string;
  /** Whether the subtask had results of other subtasks as input: a value it reports may have been computed there. */
  hasInputs: boolean;
}

const WRITE =
  /\b(?:wrote|written|saved|stored|created|recorded|put)\b|書き込|書きました|書いた|保存し|保存さ|保存済|作成し|guard[ée]|guardad[oa]|escrib[íi]|escrito|cre[ée]|[ée]crit|enregistr[ée]|sauvegard[ée]|cr[ée]{2}|geschrieben|gespeichert|erstellt|schrieb|speicherte|записал|записан|сохран[иё]л|сохранен|сохранён|создал/iu;
const FILE_NOUN = /\b(?:file|document)\b|ファイル|archivo|fichier|datei|файл/iu;
const COMPUTE =
  /\b(?:computed|calculated|worked out)\b|計算し|計算した|算出|calcul[ée]|calculado|berechnet|ausgerechnet|вычислил|посчитал|рассчитал/iu;
/** Tool-name words of the effects, for MCP tools whose names tell what they do. */
const WRITERS = /write|save|create|put|upload|edit|append|store/i;
const CALCULATORS = /calc|math|eval|compute|python|exec|run_code/i;

/** Whether the words of the claim (its verb and its object) are both in the tool outputs: then it is quoted data. */
function quoted(sentence: string, verb: RegExp, object: RegExp, observations: string): boolean {
  const verbWord = sentence.match(verb)?.[0];
  const objectWord = sentence.match(object)?.[0];
  if (!verbWord || !objectWord) return false;
  const lower = observations.toLowerCase();
  return lower.includes(verbWord.toLowerCase()) && lower.includes(objectWord.toLowerCase());
}

/** The effects `text` claims, one per sentence and kind. */
export function claimedEffects(text: string, observations = ''): Claim[] {
  const claims: Claim[] = [];
  for (const sentence of sentences(text)) {
    if (negated(sentence)) continue;
    const files = namedFiles(sentence);
    const fileObject = files.length ? new RegExp(files.map(escapeRegExp).join('|'), 'iu') : FILE_NOUN;
    if (WRITE.test(sentence) && (files.length || FILE_NOUN.test(sentence))) {
      if (!quoted(sentence, WRITE, fileObject, observations)) claims.push({ kind: 'file_written', files, sentence });
    }
    for (const kind of OUTSIDE_EFFECT_KINDS) {
      const { done, object } = OUTSIDE_EFFECTS[kind];
      // A record "in data.csv" is the workspace's: its change is a file written, checked above.
      if (kind === 'record_changed' && files.length) continue;
      const told = claimedToSomeone(kind, sentence);
      const said = done.test(sentence) && object.test(sentence) && !quoted(sentence, done, object, observations);
      if (said || (told && !observations.toLowerCase().includes(told.toLowerCase()))) {
        claims.push({ kind, sentence });
      }
    }
    if (COMPUTE.test(sentence) && !quoted(sentence, COMPUTE, /\d+/u, observations)) {
      claims.push({ kind: 'value_computed', sentence });
    }
  }
  return claims;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The `path` argument of a call as the model sent it (arguments may be a cut preview: read leniently). */
function pathArgument(call: ToolCallRecord): string | undefined {
  const found = /"path"\s*:\s*"((?:[^"\\]|\\.)*)"/u.exec(call.arguments);
  if (!found) return undefined;
  try {
    return (JSON.parse(`"${found[1]}"`) as string).normalize('NFC');
  } catch {
    return found[1].normalize('NFC');
  }
}

/** Whether `call` wrote `file` (or any file, when none is named). */
function wrote(call: ToolCallRecord, file: string | undefined): boolean {
  if (!call.ok) return false;
  if (call.name === 'write_file') {
    if (file === undefined) return true;
    const written = pathArgument(call)?.replace(/^\.\//, '');
    const wanted = file.normalize('NFC');
    return written === wanted || written?.split('/').at(-1) === wanted.split('/').at(-1);
  }
  return call.name.includes('__') && WRITERS.test(call.name) && (file === undefined || call.arguments.includes(file));
}

/**
 * The claims of `text` that no successful tool call in `context` backs: a file written needs a successful
 * `write_file` of that file (or an MCP tool that writes and names it), a message sent a successful call of a tool
 * that sends (an MCP tool whose name says so; no built-in sends anything), a value computed a successful calculator
 * call, unless the subtask had other subtasks' results as input.
 */
export function unbackedClaims(text: string, context: ClaimContext): UnbackedClaim[] {
  const unbacked: UnbackedClaim[] = [];
  const called = context.toolCalls.filter((call) => call.ok);
  for (const claim of claimedEffects(text, context.observations)) {
    switch (claim.kind) {
      case 'file_written': {
        const targets = claim.files.length ? claim.files : [undefined];
        const missing = targets.filter((file) => !called.some((call) => wrote(call, file)));
        if (missing.length) {
          unbacked.push({
            claim,
            why: `"${claim.sentence}" claims ${missing[0] === undefined ? 'a file' : missing.join(', ')} written, but no successful write_file call of the subtask wrote ${missing[0] === undefined ? 'any file' : 'it'}`,
          });
        }
        break;
      }
      case 'value_computed': {
        if (context.hasInputs) break;
        if (called.some((call) => call.name === 'calculator' || CALCULATORS.test(call.name))) break;
        unbacked.push({
          claim,
          why: `"${claim.sentence}" claims a computed value, but the subtask made no calculator call`,
        });
        break;
      }
      default: {
        if (called.some((call) => hasEffect(call, claim.kind))) break;
        unbacked.push({ claim, ...outsideEffectMissing(claim.kind, claim.sentence, 'claims', context.offeredTools) });
      }
    }
  }
  return unbacked;
}

/**
 * Why an outside effect that a sentence `claims` or `asks` for is not there: no tool call of the subtask had it, and,
 * when no tool offered can have it, which tool is missing (the built-in tools touch only the workspace).
 */
export function outsideEffectMissing(
  kind: OutsideEffectKind,
  sentence: string,
  says: 'claims' | 'asks',
  offered: string[] | undefined,
): Pick<UnbackedClaim, 'why' | 'missingTool'> {
  const effect = OUTSIDE_EFFECTS[kind];
  const missingTool = missingToolFor(kind, offered);
  const whose =
    says === 'claims'
      ? `claims ${effect.happened}, but no tool call of the subtask`
      : `asks that ${effect.wanted}, but no tool call of the goal`;
  return {
    why:
      `"${sentence}" ${whose} did it` +
      (missingTool ? `: no ${effect.tool} was available (the built-in tools act only on the workspace)` : ''),
    ...(missingTool ? { missingTool } : {}),
  };
}
