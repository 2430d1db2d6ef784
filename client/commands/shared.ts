/** Argument parsers and output helpers shared by the command modules. */
import { InvalidArgumentError } from 'commander';
import type { Client } from '@temporalio/client';
import { connectClient } from '../../node/connection';

/** commander parser for `--max-steps N` and friends. */
export function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new InvalidArgumentError('expected a positive integer');
  return parsed;
}

/** `--json` output: pretty-printed, one object per command, so `jq` and `JSON.parse` read it whole. */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/**
 * Runs `fn` with a connected client and closes the connection afterwards, so that a verb's process exits as soon as
 * its work is done instead of waiting for the gRPC channel to time out.
 */
export async function withClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectClient();
  try {
    return await fn(client);
  } finally {
    await client.connection.close();
  }
}
