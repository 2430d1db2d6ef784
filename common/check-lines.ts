/**
 * Milestone checks and their outcomes as one line each, for people (status, the Web UI details) and for the judge.
 * Apart from common/checks.ts so that rendering them does not load zod, which the CLI's read verbs do not need.
 */
import type { CheckOutcome, MilestoneCheck } from './checks';

/** A check as one line for people and for the judge, e.g. `file notes.txt contains "395"`. */
export function describeCheck(check: MilestoneCheck): string {
  switch (check.kind) {
    case 'file':
      return `file ${check.file}${check.contains === undefined ? ' exists' : ` contains ${JSON.stringify(check.contains)}`}`;
    case 'value':
      return `file ${check.file} holds the value of ${check.expression}`;
  }
}

/** An outcome as one line, e.g. `✗ file notes.txt exists: no such file`. */
export function describeOutcome(outcome: CheckOutcome): string {
  return `${outcome.ok ? '✓' : '✗'} ${describeCheck(outcome)}: ${outcome.detail}`;
}
