import { httpGetTool } from '../../common/tools';
import { defineHandler, ToolInputError } from './tool';

/** Whether `url`'s host is on the allow-list: an entry names a host (any port) or `host:port` (that port only). */
export function isHostAllowed(url: URL, allowList: readonly string[]): boolean {
  const hostname = url.hostname.toLowerCase();
  const host = url.host.toLowerCase();
  return allowList.some((entry) => entry === hostname || entry === host);
}

async function readCapped(response: Response, maxBytes: number): Promise<{ text: string; cut: boolean }> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  while (reader) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size >= maxBytes) {
      // Stop reading: a huge or endless body must not fill the worker's memory.
      await reader.cancel();
      // Decoded as a stream: a character the cut split in two is left out, not turned into U+FFFD.
      const kept = Buffer.concat(chunks).subarray(0, maxBytes);
      return { text: new TextDecoder('utf-8').decode(kept, { stream: true }), cut: true };
    }
  }
  return { text: Buffer.concat(chunks).toString('utf8'), cut: false };
}

export const httpGet = defineHandler(httpGetTool, async ({ url: raw }, { signal, config }) => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ToolInputError(`"${raw}" is not an absolute URL; send e.g. "https://example.com/page"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ToolInputError(`only http and https URLs can be fetched, not ${url.protocol}`);
  }
  const allowList = config.http.allow;
  if (!isHostAllowed(url, allowList)) {
    throw new ToolInputError(
      `host "${url.host}" is not allowed; allowed hosts: ${allowList.length ? allowList.join(', ') : '(none)'} ` +
        '(the operator sets TANDEM_HTTP_ALLOW)',
    );
  }
  const { timeoutMs, maxBytes } = config.http;
  let response: Response;
  try {
    // Redirects are not followed: the next hop's host must pass the allow-list too.
    response = await fetch(url, {
      redirect: 'manual',
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
  } catch (err) {
    const reason = err instanceof Error && err.name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : String(err);
    throw new Error(`GET ${url.href} failed: ${reason}`);
  }
  const type = response.headers.get('content-type') ?? 'unknown type';
  const location = response.headers.get('location');
  const { text, cut } = await readCapped(response, maxBytes);
  return [
    `HTTP ${response.status} ${type}${location ? `; Location: ${location}` : ''}`,
    '',
    text,
    ...(cut ? [`[body cut off at ${maxBytes} bytes (TANDEM_HTTP_MAX_BYTES)]`] : []),
  ].join('\n');
});
