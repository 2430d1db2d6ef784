/**
 * `npm run test:llama`'s global setup: provisions llama-server before any suite runs, so that a fresh machine's first
 * build (~17 minutes) happens here, with no timeout, instead of inside the first suite's beforeAll (whose 300 s it
 * outlasted, failing 23 tests on a build that then succeeded); then the setup `npm test` has.
 */
import globalSetup from '../helpers/global-setup';
import { provisionLlama } from './llama-server';

export default async function llamaGlobalSetup(): Promise<void> {
  provisionLlama();
  await globalSetup();
}
