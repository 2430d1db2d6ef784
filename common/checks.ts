/**
 * Machine-checked milestones: facts about the world a subtask's milestone claims, which tandem verifies itself (in the
 * `checkMilestone` activity) before a judge model reads the result. A failed check is a missed milestone whatever the
 * judge would say. Sandbox-safe: types and zod only.
 *
 * Checks are a union discriminated by `kind`, so further kinds (a command's exit code, an HTTP status) are added as new
 * members without touching the ones here. `kind` may be left out for a file check: a weak model that writes
 * `{"file": "notes.txt"}` means exactly that, and it is the only kind with a `file` field.
 */
import { z } from 'zod';

/** "This file exists in the goal's workspace (and contains this text)". */
export const fileCheckSchema = z
  .object({
    kind: z.literal('file').default('file').describe('"file" (the default): a file in the goal\'s workspace'),
    file: z.string().trim().min(1).describe('Path relative to the workspace, e.g. "notes.txt"'),
    contains: z.string().min(1).optional().describe('Text the file must contain, e.g. "395"'),
  })
  .strict();
export type FileCheck = z.infer<typeof fileCheckSchema>;

/**
 * "This file holds the number this arithmetic evaluates to": the expected value comes from code (the calculator's
 * engine, in the `checkMilestone` activity), never from the planner's arithmetic. The expression must be one the goal
 * writes; plan validation repairs one that is not (workflows/planner/check-repair.ts).
 */
export const valueCheckSchema = z
  .object({
    kind: z.literal('value').describe('"value": a file holds the value of an arithmetic expression the goal writes'),
    file: z.string().trim().min(1).describe('Path relative to the workspace, e.g. "answer.txt"'),
    expression: z.string().trim().min(1).max(200).describe('The arithmetic as the goal writes it, e.g. "17 * 23 + 4"'),
  })
  .strict();
export type ValueCheck = z.infer<typeof valueCheckSchema>;

/** Every kind of milestone check; add a kind as a new member of this union. */
export const milestoneCheckSchema = z.discriminatedUnion('kind', [fileCheckSchema, valueCheckSchema]);
export type MilestoneCheck = z.infer<typeof milestoneCheckSchema>;

/**
 * A check and how it came out: `detail` says what was found (e.g. "no such file", "12 bytes, contains \"395\"").
 * `disputed`: the check failed on a value the planner wrote, and the executor's own calculator result disagrees with
 * that value; such a failure is evidence for the judge, not a verdict by itself (the plan may be what is wrong).
 */
export type CheckOutcome = MilestoneCheck & { ok: boolean; detail: string; disputed?: true };

/** Input of the `checkMilestone` activity. */
export interface CheckMilestoneInput {
  /** Folder name of the goal's workspace (the same one the executor's file tools use). */
  workspace: string;
  checks: MilestoneCheck[];
  /** Expressions the executor's successful calculator calls evaluated: compared with a failed check's value. */
  calculations?: string[];
}

/** Extensions of the files a text is taken to name: text a tool writes, never a domain (`example.com`). */
const EXTENSION = '(?:txt|md|json|csv|tsv|py|js|ts|html|css|yaml|yml|xml|log|sh|toml|ini|sql)';
/**
 * A bare file name: letters of the scripts that put spaces between words (Latin with accents, Greek, Cyrillic),
 * digits, `_` and `-`, in folders; the extension must not run on into an ASCII word (`kekka.txtに` names kekka.txt).
 * A name in a script written without spaces (`メモ.txt`) cannot be told from the word before it unless it is quoted
 * or stands after a space.
 */
const NAME_PART = String.raw`[\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}\p{N}_-]+`;
const BARE_FILE = new RegExp(
  String.raw`(?<![\p{L}\p{N}_@/:.-])((?:${NAME_PART}\/)*${NAME_PART}\.${EXTENSION})(?![A-Za-z0-9_/-])`,
  'giu',
);
/** A name after a space, the start or an opening bracket, in any script (`メモ.txt を読んで`). */
const SPACED_FILE = new RegExp(
  String.raw`(?<=^|[\s(（:：、，,])((?:[\p{L}\p{N}_-]+\/)*[\p{L}\p{N}_-]+\.${EXTENSION})(?![A-Za-z0-9_/-])`,
  'giu',
);
/** A quoted name, spaces allowed: "my notes.txt", 「結果.txt」, `out.json`. */
const QUOTED_FILE = new RegExp(
  String.raw`["'“‘「『\x60]([^"'”’」』\x60\n]{1,200}?\.${EXTENSION})["'”’」』\x60]`,
  'giu',
);

/** The file names `text` names, NFC, each once, in order of appearance. */
export function namedFiles(text: string): string[] {
  const quoted = [...text.matchAll(QUOTED_FILE)].map((m) => ({ at: m.index, end: m.index + m[0].length, file: m[1] }));
  // A name inside quotes is the quoted one: the words in it after a space are not names of their own.
  const bare = [BARE_FILE, SPACED_FILE]
    .flatMap((pattern) => [...text.matchAll(pattern)].map((m) => ({ at: m.index, file: m[1] })))
    .filter(({ at }) => !quoted.some((span) => at >= span.at && at < span.end));
  const found = [...quoted, ...bare].sort((a, b) => a.at - b.at).map(({ file }) => file.trim().normalize('NFC'));
  return [...new Set(found)];
}

/**
 * `text` with the file names it names blanked: words of a name ("missing.txt", "old-notes.md") are not words of the
 * text, so "Read missing.txt" does not speak of something missing.
 */
/** "no output.log is left": the one absence the file's name itself is part of. */
const NO_FILE = /\bno\s+\S+\.\w+/iu;

/** Whether `text` speaks of files gone, moved or left alone ({@link ABSENCE}), not counting words of file names. */
function speaksOfAbsence(text: string): boolean {
  return NO_FILE.test(text) || ABSENCE.test(withoutFileNames(text));
}

export function withoutFileNames(text: string): string {
  return namedFiles(text).reduce((rest, file) => rest.split(file).join(' '), text.normalize('NFC'));
}

/**
 * Words of a milestone whose files are meant to be gone, moved, or absent ("tmp.txt is deleted", "no output.log is
 * left"): it implies no check, since a check that the file exists would fail the very work it asks for.
 */
const ABSENCE =
  /\b(?:delet|remov|renam|mov|clean|purg|eras|unlink|archiv|absent|missing|gone|no longer|not (?:exist|be|left|present|written|created|modified|changed|touched)|never|without|untouched|unchanged|rm|mv)|削除|消去|移動|borra|supprim|lösch|удал/iu;

/**
 * The checks a subtask implies when the plan gave none: every file its milestone names must exist, and so must every
 * file the goal names that the subtask's instructions or milestone name too (`goalFiles`). A milestone about a file
 * ("answer.txt holds 395") is met only if the file is there, whatever the executor claims and a judge believes. When
 * the goal writes exactly one arithmetic expression and names exactly one file, that file's check is a value check
 * (`expression`): the goal says what it must hold. A text that speaks of removing, moving or leaving files alone
 * ({@link ABSENCE}) implies no check: the judge decides it.
 */
export function impliedChecks(
  milestone: string,
  scope: { instructions?: string; goalFiles?: string[]; expression?: string } = {},
): MilestoneCheck[] {
  if (speaksOfAbsence(milestone)) return [];
  const own = namedFiles(milestone);
  const mentioned = new Set([...own, ...namedFiles(scope.instructions ?? '')]);
  const fromGoal = (scope.goalFiles ?? []).filter(
    (file) => mentioned.has(file) && !speaksOfAbsence(scope.instructions ?? ''),
  );
  const files = [...new Set([...own, ...fromGoal])];
  return files.map((file) =>
    scope.expression !== undefined && scope.goalFiles?.length === 1 && scope.goalFiles[0] === file
      ? { kind: 'value', file, expression: scope.expression }
      : { kind: 'file', file },
  );
}
