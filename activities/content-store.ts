/**
 * Content-addressed storage for what must not live in workflow history: transcripts and full tool outputs.
 *
 * A reference is `sha256:<hex>` of the stored text, so writing the same content twice (an activity retried after a
 * worker crash) yields the same reference and changes nothing. The file store suits the embedded default and any
 * cluster whose workers share a volume; another backend only has to implement {@link ContentStore}.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../node/errors';

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
    readonly dir: string,
  ) {
    super(
      `no stored content for ${JSON.stringify(ref)} in ${dir}: check the reference, and that every worker and the CLI ` +
        'share TANDEM_STORE_DIR',
    );
  }
}

export class FileContentStore implements ContentStore {
  constructor(readonly dir: string) {}

  async put(text: string): Promise<string> {
    const hex = createHash('sha256').update(text).digest('hex');
    const file = this.fileFor(hex);
    try {
      await fs.access(file);
    } catch {
      await fs.mkdir(path.dirname(file), { recursive: true });
      // Write then rename, so a reader on another worker never sees half a file.
      const partial = `${file}.${process.pid}.${Date.now()}.partial`;
      await fs.writeFile(partial, text);
      await fs.rename(partial, file);
    }
    return `sha256:${hex}`;
  }

  async get(ref: string): Promise<string> {
    const hex = REF_PATTERN.exec(ref)?.[1];
    if (!hex) throw new MalformedRefError(ref);
    try {
      return await fs.readFile(this.fileFor(hex), 'utf8');
    } catch {
      throw new ContentNotFoundError(ref, this.dir);
    }
  }

  private fileFor(hex: string): string {
    return path.join(this.dir, hex.slice(0, 2), hex.slice(2));
  }
}

/** The store in `storeDir` (`TANDEM_STORE_DIR`, see node/config.ts). */
export function contentStore(storeDir: string): ContentStore {
  return new FileContentStore(storeDir);
}
