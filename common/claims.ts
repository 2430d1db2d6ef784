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
import type { ToolCallRecord } from './types';

/** An effect a text claims happened. */
export type Claim =
  | { kind: 'file_written'; files: string[]; sentence: string }
  | { kind: 'message_sent'; sentence: string }
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
const SEND =
  /\b(?:sent|e-?mailed|mailed|messaged|notified|texted|delivered|forwarded)\b|送信し|送りました|送った|送信済|envi[ée]|envoy[ée]|gesendet|geschickt|verschickt|отправ(?:ил|лен)/iu;
const MESSAGE_NOUN =
  /\b(?:e-?mails?|mail|message|letter|sms|text|notification|invitation|reminder)\b|メール|メッセージ|correo|mensaje|courriel|message|nachricht|письмо|сообщение|[\w.+-]+@[\w-]+\.[\w.]+/iu;
const COMPUTE =
  /\b(?:computed|calculated|worked out)\b|計算し|計算した|算出|calcul[ée]|calculado|berechnet|ausgerechnet|вычислил|посчитал|рассчитал/iu;
const NEGATION =
  /\b(?:not|never|no|unable|cannot|can't|couldn't|didn't|wasn't|isn't|failed|without|nothing)\b|n't\b|ません|できな|失敗|\bpas\b|\bnicht\b|\bkein|\bnon\b|(?<![\p{L}])не\s/iu;

/** Tool-name words of the effects, for MCP tools whose names tell what they do. */
const WRITERS = /write|save|create|put|upload|edit|append|store/i;
const SENDERS = /send|mail|message|notify|sms|slack|post|chat|smtp|telegram|discord/i;
const CALCULATORS = /calc|math|eval|compute|python|exec|run_code/i;

/** Sentences of a text: split at . ! ? 。 ！ ？ and line breaks (a file name's dot is kept: it has no space after). */
function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|[。！？\n]+/u)
    .map((part) => part.trim())
    .filter(Boolean);
}

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
    if (NEGATION.test(sentence)) continue;
    const files = namedFiles(sentence);
    const fileObject = files.length ? new RegExp(files.map(escapeRegExp).join('|'), 'iu') : FILE_NOUN;
    if (WRITE.test(sentence) && (files.length || FILE_NOUN.test(sentence))) {
      if (!quoted(sentence, WRITE, fileObject, observations)) claims.push({ kind: 'file_written', files, sentence });
    }
    if (SEND.test(sentence) && MESSAGE_NOUN.test(sentence) && !quoted(sentence, SEND, MESSAGE_NOUN, observations)) {
      claims.push({ kind: 'message_sent', sentence });
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

/** The tools that could send a message, of those offered: built-ins send nothing, so only MCP tools can. */
function senders(offered: string[] | undefined): string[] {
  return (offered ?? []).filter((name) => name.includes('__') && SENDERS.test(name));
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
      case 'message_sent': {
        if (called.some((call) => call.name.includes('__') && SENDERS.test(call.name))) break;
        const offered = senders(context.offeredTools);
        const noTool = context.offeredTools === undefined || offered.length === 0;
        unbacked.push({
          claim,
          why:
            `"${claim.sentence}" claims a message was sent, but no tool call of the subtask sent one` +
            (noTool ? ': no tool that sends e-mail or messages was available (the built-in tools send nothing)' : ''),
          ...(noTool ? { missingTool: 'a tool that sends e-mail or messages (e.g. an MCP mail server)' } : {}),
        });
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
    }
  }
  return unbacked;
}
