/** Parsers of `tandem start --approve` and `--approval-timeout`. */
import { InvalidArgumentError } from 'commander';
import { APPROVE_SIDE_EFFECTS, parseDuration } from '../../common/approvals';
import { isMcpToolName } from '../../common/mcp';
import { TOOL_NAMES } from '../../common/tools';
import { commaList } from '../../node/config';

/** `--approve write_file,everything__echo` or `--approve side-effects`: each entry a tool name or the keyword. */
export function approveList(value: string): string[] {
  const entries = commaList(value);
  const unknown = entries.filter(
    (entry) =>
      entry !== APPROVE_SIDE_EFFECTS && !(TOOL_NAMES as readonly string[]).includes(entry) && !isMcpToolName(entry),
  );
  if (entries.length === 0 || unknown.length) {
    throw new InvalidArgumentError(
      `${unknown.length ? `unknown tool ${unknown.map((entry) => `"${entry}"`).join(', ')}; ` : ''}expected ` +
        `${APPROVE_SIDE_EFFECTS} or tool names as \`tandem tools\` lists them (built-ins or <server>__<tool>)`,
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
