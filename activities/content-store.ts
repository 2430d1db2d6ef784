/**
 * Content-addressed storage for what must not live in workflow history: transcripts and full tool outputs.
 *
 * A reference is `sha256:<hex>` of the stored text, so writing the same content twice (an activity retried after a
 * worker crash) yields the same reference and changes nothing. The objects live in a folder (the embedded default)
 * or an S3 bucket (`TANDEM_STORE_URL`, node/store-location.ts) that every worker and the CLI reach.
 */
import { createHash } from 'node:crypto';
import { UserError } from '../node/errors';
import { openObjectStore, type ObjectStore } from '../node/object-store';
import type { StoreLocation } from '../node/store-location';

/** What activities store by reference; {@link ObjectContentStore} adds byte and file variants for workspaces. */
export interface ContentStore {
  put(text: string): Promise<string>;
  get(ref: string): Promise<string>;
}

const REF_PATTERN = /^sha256:([0-9a-f]{64})$/;

/** Thrown for a string that cannot be a reference at all (`tandem output ID ../x`): no store could hold it. */
export class MalformedRefError extends UserError {
  override name = 'MalformedRefError';
  constructor(readonly ref: string) {
    super(
      `${JSON.stringify(ref)} is not a content reference (sha256: and 64 hex digits): copy one from ` +
        'toolCalls[].outputRef in `tandem result ID --json`',
    );
  }
}

/** Thrown for a well-formed reference that names nothing in the store. */
export class ContentNotFoundError extends UserError {
  override name = 'ContentNotFoundError';
  constructor(
    readonly ref: string,
    readonly store: string,
  ) {
    super(
      `no stored content for ${JSON.stringify(ref)} in ${store}: check the reference, and that every worker and the ` +
        'CLI share one TANDEM_STORE_URL',
    );
  }
}

/**
 * The content store over an {@link ObjectStore}: object `<hex[0:2]>/<hex[2:]>` holds the content of `sha256:<hex>`
 * (the layout of the folder store since the first release, so an existing folder keeps working).
 */
export class ObjectContentStore implements ContentStore {
  constructor(readonly objects: ObjectStore) {}

  async put(text: string): Promise<string> {
    return this.putBytes(Buffer.from(text, 'utf8'));
  }

  async get(ref: string): Promise<string> {
    return (await this.getBytes(ref)).toString('utf8');
  }

  /** {@link put} for bytes that need not be text (a workspace file). */
  async putBytes(bytes: Buffer): Promise<string> {
    const ref = refOf(bytes);
    await this.objects.create(keyOf(ref), { bytes });
    return ref;
  }

  /** Stores a local file by streaming it, for files of any size; `ref` is its {@link refOf} hash, computed by the caller. */
  async putFile(ref: string, file: string): Promise<void> {
    await this.objects.create(keyOf(ref), { file });
  }

  /** {@link get} as bytes. */
  async getBytes(ref: string): Promise<Buffer> {
    const bytes = await this.objects.read(keyOf(ref));
    if (bytes === undefined) throw new ContentNotFoundError(ref, this.objects.description);
    return bytes;
  }

  /** Whether the store holds the content of `ref` (a fork checks that a workspace's files are all still there). */
  async has(ref: string): Promise<boolean> {
    return (await this.objects.read(keyOf(ref))) !== undefined;
  }

  /** Writes the content of `ref` into `file`, streamed. */
  async getFile(ref: string, file: string): Promise<void> {
    if (!(await this.objects.readToFile(keyOf(ref), file))) {
      throw new ContentNotFoundError(ref, this.objects.description);
    }
  }
}

/** The reference of `bytes`: `sha256:` and the hex digest. */
export function refOf(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function keyOf(ref: string): string {
  const hex = REF_PATTERN.exec(ref)?.[1];
  if (!hex) throw new MalformedRefError(ref);
  return `${hex.slice(0, 2)}/${hex.slice(2)}`;
}

/** The store at `location` (`TANDEM_STORE_URL`, see node/store-location.ts). */
export function contentStore(location: StoreLocation): ObjectContentStore {
  return new ObjectContentStore(openObjectStore(location));
}
