/**
 * Parsers of `tandem start --approve` and `--approval-timeout`. They run while commander parses, for every verb's
 * registration too, so they stay free of zod and the tool catalogue: the names in `--approve` are checked against
 * the catalogue by {@link checkApproveNames}, a hook that runs only when `start` does.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { parseDuration } from '../../common/durations';
import { commaList } from '../../node/comma-list';

/** `--approve write_file,everything__echo` or `--approve side-effects`: each entry a tool name or the keyword. */
export function approveList(value: string): string[] {
  const entries = commaList(value);
  if (entries.length === 0) throw new InvalidArgumentError('expected tool names or side-effects, got an empty list');
  return entries;
}

/**
 * A `preAction` hook: refuses `--approve` entries that are neither the keyword nor a tool name, as a parse error of
 * the flag (one line naming `--help`), before anything is sent to the server.
 */
export async function checkApproveNames(command: Command): Promise<void> {
  const entries = command.opts<{ approve?: string[] }>().approve;
  if (!entries) return;
  const { APPROVE_EXPECTED, unknownApproveEntries } = await import('../../common/approvals');
  const unknown = unknownApproveEntries(entries);
  if (unknown.length === 0) return;
  command.error(
    `option '--approve <tools>' argument '${entries.join(',')}' is invalid. ` +
      `unknown tool ${unknown.map((entry) => `"${entry}"`).join(', ')}; expected ${APPROVE_EXPECTED}`,
  );
}

/** `--approval-timeout 15m` in milliseconds. */
export function approvalTimeout(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new InvalidArgumentError('expected a duration such as 90s, 15m, 2h or 1d');
  // Past this the number is no longer exact (the goal's schema refuses it with zod's words, naming no flag).
  if (!Number.isSafeInteger(ms)) {
    throw new InvalidArgumentError(
      'expected a duration such as 90s, 15m, 2h or 1d; leave the flag out to wait until decided',
    );
  }
  return ms;
}
