/** Parsers of `tandem start --approve` and `--approval-timeout`. */
import { InvalidArgumentError } from 'commander';
import { APPROVE_EXPECTED, parseDuration, unknownApproveEntries } from '../../common/approvals';
import { commaList } from '../../node/config';

/** `--approve write_file,everything__echo` or `--approve side-effects`: each entry a tool name or the keyword. */
export function approveList(value: string): string[] {
  const entries = commaList(value);
  const unknown = unknownApproveEntries(entries);
  if (entries.length === 0 || unknown.length) {
    throw new InvalidArgumentError(
      `${unknown.length ? `unknown tool ${unknown.map((entry) => `"${entry}"`).join(', ')}; ` : ''}expected ` +
        APPROVE_EXPECTED,
    );
  }
  return entries;
}

/** `--approval-timeout 15m` in milliseconds. */
export function approvalTimeout(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new InvalidArgumentError('expected a duration such as 90s, 15m, 2h or 1d');
  return ms;
}
