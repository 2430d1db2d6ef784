/**
 * Preloaded (`node --require dist/dev/netns-preload.js`) into a process started by `unshare --net`: brings up the new
 * namespace's loopback and starts a {@link startRelay} from 127.0.0.1:PORT to a Unix socket for each entry of
 * TANDEM_NETNS_RELAYS (`PORT=/path/to.sock,...`), before the program itself runs. The relays live in the program's own
 * process, so a SIGKILL takes the "machine" down whole, network and all.
 */
import { execFileSync } from 'node:child_process';
import { startRelay } from './relay';

const spec = process.env.TANDEM_NETNS_RELAYS ?? '';
// Not passed on: a child (an MCP server) is in the same namespace and must not try to listen on the same ports.
delete process.env.TANDEM_NETNS_RELAYS;
execFileSync('ip', ['link', 'set', 'lo', 'up']);
for (const entry of spec.split(',').filter(Boolean)) {
  const [port, socket] = entry.split('=');
  startRelay({ port: Number(port) }, { path: socket }).catch((error: unknown) => {
    console.error(`tandem netns preload: ${String(error)}`);
    process.exit(1);
  });
}
