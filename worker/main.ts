/** Entry point for `node dist/worker/main.js` (the Docker image) — the same worker as `tandem worker`. */
import { runWorker } from './worker';

runWorker().catch((err: unknown) => {
  console.error(`tandem worker: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
