/** The verbs of MCP tools and the approval gate: tools, approvals, approve, deny. */
import type { Command } from 'commander';
import * as os from 'node:os';
import type { ApprovalReceipt } from '../../common/approvals';
import { nonEmptyId, printJson, withClient } from './shared';

/** Each action loads its modules when it runs: the MCP SDK and the Temporal client cost --help and --version nothing. */
const approvals = () => import('../approvals');

/**
 * Who decides, as the goal records it with a denial (a later refusal of the same call names them): the OS user running
 * the CLI, or nothing when the system cannot say.
 */
function decider(): { by?: string } {
  try {
    return { by: os.userInfo().username };
  } catch {
    return {};
  }
}

const RECEIPT_JSON = "print the goal's receipt {callId, subtaskId, approve} as JSON";

/** A decision the goal took: one line (`approved v1.s1:1:c (subtask s1)`), or the receipt as JSON. */
function printReceipt(receipt: ApprovalReceipt, opts: { json?: boolean }): void {
  if (opts.json) printJson(receipt);
  else console.log(`${receipt.approve ? 'approved' : 'denied'} ${receipt.callId} (subtask ${receipt.subtaskId})`);
}

/** Registers the tool and approval verbs on `program`. */
export function registerApprovalCommands(program: Command): void {
  program
    .command('tools')
    .description(
      'List every tool a worker would offer: the built-ins and those of the MCP servers in TANDEM_MCP_CONFIG',
    )
    .option('--json', 'print {tools: [{name, source, tool, sideEffects, description, inputSchema}], problems} as JSON')
    .action(async (opts: { json?: boolean }) => {
      const [{ loadConfig }, { formatToolList, listTools }] = await Promise.all([
        import('../../node/config'),
        import('../tool-list'),
      ]);
      const list = await listTools(loadConfig());
      if (opts.json) printJson(list);
      else console.log(formatToolList(list));
    });

  program
    .command('approvals')
    .description("List a goal's tool calls that wait for approval")
    .argument('<id>', 'the goal id', nonEmptyId)
    .option('--json', 'print [{callId, subtaskId, tool, arguments, requestedAt, warning?}] as JSON')
    .action((id: string, opts: { json?: boolean }) =>
      withClient(async (client) => {
        const { formatApprovals, pendingApprovals } = await approvals();
        const pending = await pendingApprovals(client, id);
        if (opts.json) printJson(pending);
        else console.log(formatApprovals(id, pending));
      }),
    );

  program
    .command('approve')
    .description('Approve a held tool call: it runs')
    .argument('<id>', 'the goal id', nonEmptyId)
    .argument('<callId>', 'the call, as `tandem approvals ID` lists it', nonEmptyId)
    .option('--json', RECEIPT_JSON)
    .action((id: string, callId: string, opts: { json?: boolean }) =>
      withClient(async (client) => {
        const { decideApproval } = await approvals();
        const receipt = await decideApproval(client, id, { callId, approve: true, ...decider() });
        printReceipt(receipt, opts);
      }),
    );

  program
    .command('deny')
    .description('Deny a held tool call: it never runs, and the model is told why')
    .argument('<id>', 'the goal id', nonEmptyId)
    .argument('<callId>', 'the call, as `tandem approvals ID` lists it', nonEmptyId)
    .option('--reason <reason>', 'why, for the model')
    .option('--json', RECEIPT_JSON)
    .action((id: string, callId: string, opts: { reason?: string; json?: boolean }) =>
      withClient(async (client) => {
        const { decideApproval } = await approvals();
        const receipt = await decideApproval(client, id, {
          callId,
          approve: false,
          ...(opts.reason ? { reason: opts.reason } : {}),
          ...decider(),
        });
        printReceipt(receipt, opts);
      }),
    );
}
