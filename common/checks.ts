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

/** Every kind of milestone check; add a kind as a new member of this union. */
export const milestoneCheckSchema = z.discriminatedUnion('kind', [fileCheckSchema]);
export type MilestoneCheck = z.infer<typeof milestoneCheckSchema>;

/** A check and how it came out: `detail` says what was found (e.g. "no such file", "12 bytes, contains \"395\""). */
export type CheckOutcome = MilestoneCheck & { ok: boolean; detail: string };

/** Input of the `checkMilestone` activity. */
export interface CheckMilestoneInput {
  /** Folder name of the goal's workspace (the same one the executor's file tools use). */
  workspace: string;
  checks: MilestoneCheck[];
}

/** Extensions of the files a milestone is taken to name: text a tool writes, never a domain (`example.com`). */
const FILE_NAME =
  /(?<![\w@/:.-])((?:[\w-]+\/)*[\w-]+\.(?:txt|md|json|csv|tsv|py|js|ts|html|css|yaml|yml|xml|log|sh|toml|ini|sql))(?![\w/-])/g;

/**
 * Words of a milestone whose files are meant to be gone, moved, or absent ("tmp.txt is deleted", "no output.log is
 * left"): it implies no check, since a check that the file exists would fail the very work it asks for.
 */
const ABSENCE =
  /\b(?:delet|remov|renam|mov|clean|purg|eras|unlink|archiv|absent|missing|gone|no longer|not (?:exist|be|left|present|written|created|modified|changed|touched)|never|without|untouched|unchanged|rm|mv|no\s+\S+\.\w+)/i;

/**
 * The file checks a milestone implies when the plan gave none: every file it names must exist. A milestone about a
 * file ("answer.txt holds 395") is met only if the file is there, whatever the executor claims and a judge believes.
 * One that speaks of removing, moving or leaving files alone ({@link ABSENCE}) implies none: the judge decides it.
 */
export function impliedChecks(milestone: string): FileCheck[] {
  if (ABSENCE.test(milestone)) return [];
  const files = [...new Set([...milestone.matchAll(FILE_NAME)].map((m) => m[1]))];
  return files.map((file) => ({ kind: 'file', file }));
}

/** A check as one line for people and for the judge, e.g. `file notes.txt contains "395"`. */
export function describeCheck(check: MilestoneCheck): string {
  switch (check.kind) {
    case 'file':
      return `file ${check.file}${check.contains === undefined ? ' exists' : ` contains ${JSON.stringify(check.contains)}`}`;
  }
}

/** An outcome as one line, e.g. `✗ file notes.txt exists: no such file`. */
export function describeOutcome(outcome: CheckOutcome): string {
  return `${outcome.ok ? '✓' : '✗'} ${describeCheck(outcome)}: ${outcome.detail}`;
}
