/**
 * {@link ObjectStore} on any S3-compatible server (AWS S3, versitygw, MinIO, Ceph). Path-style addressing when an
 * endpoint is given, as S3-compatible servers on one host name need. The AWS SDK is imported on first use only.
 */
import type { ListObjectsV2CommandOutput, S3Client } from '@aws-sdk/client-s3';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { UserError } from './errors';
import type { CreateOutcome, ObjectBody, ObjectStore } from './object-store';
import { writeThroughPartial } from './files';
import { describeStore, type StoreLocation } from './store-location';

type S3Location = Extract<StoreLocation, { kind: 's3' }>;
type S3Sdk = typeof import('@aws-sdk/client-s3');

/** An S3 request that failed for a reason the operator fixes (no bucket, bad credentials, no server). */
export class ObjectStoreError extends UserError {
  override name = 'ObjectStoreError';
  constructor(
    readonly store: string,
    readonly operation: string,
    readonly key: string,
    cause: unknown,
  ) {
    super(`${operation} ${JSON.stringify(key)} in ${store} failed: ${hintFor(cause)}`);
  }
}

function errorName(err: unknown): string {
  return (err as { name?: string })?.name ?? '';
}

function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function hintFor(cause: unknown): string {
  const name = errorName(cause);
  const message = String((cause as Error)?.message ?? cause).split('\n')[0];
  if (name === 'NoSuchBucket') return 'the bucket does not exist: create it, or fix the bucket in TANDEM_STORE_URL';
  if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'CredentialsProviderError'].includes(name)) {
    return `${name} (${message}): check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`;
  }
  const code = (cause as NodeJS.ErrnoException)?.code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return `no S3 server answers (${code}): start it, or fix AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL`;
  }
  return `${name || 'error'}: ${message}`;
}

function isMissingKey(err: unknown): boolean {
  return errorName(err) === 'NoSuchKey' || (httpStatus(err) === 404 && errorName(err) !== 'NoSuchBucket');
}

/** S3 answers 409 ConditionalRequestConflict while another conditional write of the key is in flight: try again. */
const CONFLICT_RETRIES = 5;
const CONFLICT_BACKOFF_MS = 100;
/** Removals sent at once by {@link S3ObjectStore.removeFolder}. */
const REMOVALS_IN_FLIGHT = 16;

export class S3ObjectStore implements ObjectStore {
  readonly description: string;
  private sdk: Promise<{ sdk: S3Sdk; client: S3Client }> | undefined;

  constructor(readonly location: S3Location) {
    this.description = describeStore(location);
  }

  async read(key: string): Promise<Buffer | undefined> {
    const body = await this.getBody(key);
    if (body === undefined) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async readToFile(key: string, file: string): Promise<boolean> {
    const body = await this.getBody(key);
    if (body === undefined) return false;
    await writeThroughPartial(file, (partial) => pipeline(body, createWriteStream(partial)));
    return true;
  }

  async create(key: string, body: ObjectBody): Promise<CreateOutcome> {
    // A file may be large: ask first rather than stream it to a server that will refuse it.
    if ('file' in body && (await this.exists(key))) return 'existed';
    for (let attempt = 0; ; attempt++) {
      try {
        await this.put(key, body, true);
        return 'created';
      } catch (err) {
        if (httpStatus(err) === 412 || errorName(err) === 'PreconditionFailed') return 'existed';
        // A server may answer 412 before it has read the body and close the connection, which the client sees as a
        // broken pipe: whether the key exists says which it was.
        if (httpStatus(err) === undefined && (await this.exists(key))) return 'existed';
        if (httpStatus(err) !== 409 || attempt >= CONFLICT_RETRIES) {
          throw new ObjectStoreError(this.description, 'writing', key, err);
        }
        await new Promise((resolve) => setTimeout(resolve, CONFLICT_BACKOFF_MS * (attempt + 1)));
      }
    }
  }

  private async exists(key: string): Promise<boolean> {
    const { sdk, client } = await this.connect();
    try {
      await client.send(new sdk.HeadObjectCommand({ Bucket: this.location.bucket, Key: this.location.prefix + key }));
      return true;
    } catch (err) {
      if (isMissingKey(err)) return false;
      throw new ObjectStoreError(this.description, 'looking up', key, err);
    }
  }

  async overwrite(key: string, body: ObjectBody): Promise<void> {
    try {
      await this.put(key, body, false);
    } catch (err) {
      throw new ObjectStoreError(this.description, 'writing', key, err);
    }
  }

  async children(folder: string): Promise<string[]> {
    const prefix = `${this.location.prefix}${folder}/`;
    const names: string[] = [];
    for await (const page of this.listPages(folder, prefix, '/')) {
      for (const { Prefix } of page.CommonPrefixes ?? []) if (Prefix) names.push(Prefix.slice(prefix.length, -1));
      for (const { Key } of page.Contents ?? []) if (Key) names.push(Key.slice(prefix.length));
    }
    return names;
  }

  async remove(key: string): Promise<void> {
    const { sdk, client } = await this.connect();
    try {
      // S3 answers 204 for a key that is not there: removing twice is not an error.
      await client.send(new sdk.DeleteObjectCommand({ Bucket: this.location.bucket, Key: this.location.prefix + key }));
    } catch (err) {
      throw new ObjectStoreError(this.description, 'removing', key, err);
    }
  }

  /**
   * One DeleteObject per key, a page at a time: DeleteObjects needs a checksum header that S3-compatible servers do
   * not all accept, and what expires here is a few thousand small objects at most.
   */
  async removeFolder(folder: string): Promise<void> {
    for await (const page of this.listPages(folder, `${this.location.prefix}${folder}/`)) {
      const keys = (page.Contents ?? []).flatMap(({ Key }) => (Key ? [Key.slice(this.location.prefix.length)] : []));
      for (let i = 0; i < keys.length; i += REMOVALS_IN_FLIGHT) {
        await Promise.all(keys.slice(i, i + REMOVALS_IN_FLIGHT).map((key) => this.remove(key)));
      }
    }
  }

  /** ListObjectsV2 pages under `prefix` (with `delimiter`, one level only). */
  private async *listPages(
    folder: string,
    prefix: string,
    delimiter?: string,
  ): AsyncGenerator<ListObjectsV2CommandOutput> {
    const { sdk, client } = await this.connect();
    let ContinuationToken: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await client.send(
          new sdk.ListObjectsV2Command({
            Bucket: this.location.bucket,
            Prefix: prefix,
            ...(delimiter ? { Delimiter: delimiter } : {}),
            ...(ContinuationToken ? { ContinuationToken } : {}),
          }),
        );
      } catch (err) {
        throw new ObjectStoreError(this.description, 'listing', `${folder}/`, err);
      }
      yield page;
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  private async put(key: string, body: ObjectBody, exclusive: boolean): Promise<void> {
    const { sdk, client } = await this.connect();
    const payload =
      'bytes' in body
        ? { Body: body.bytes, ContentLength: body.bytes.length }
        : { Body: createReadStream(body.file), ContentLength: (await fs.stat(body.file)).size };
    await client.send(
      new sdk.PutObjectCommand({
        Bucket: this.location.bucket,
        Key: this.location.prefix + key,
        ...payload,
        ...(exclusive ? { IfNoneMatch: '*' } : {}),
      }),
    );
  }

  private async getBody(key: string): Promise<Readable | undefined> {
    const { sdk, client } = await this.connect();
    try {
      const reply = await client.send(
        new sdk.GetObjectCommand({ Bucket: this.location.bucket, Key: this.location.prefix + key }),
      );
      return reply.Body as Readable;
    } catch (err) {
      if (isMissingKey(err)) return undefined;
      throw new ObjectStoreError(this.description, 'reading', key, err);
    }
  }

  private connect(): Promise<{ sdk: S3Sdk; client: S3Client }> {
    this.sdk ??= import('@aws-sdk/client-s3').then((sdk) => ({
      sdk,
      client: new sdk.S3Client({
        region: this.location.region,
        ...(this.location.endpoint ? { endpoint: this.location.endpoint, forcePathStyle: true } : {}),
      }),
    }));
    return this.sdk;
  }
}
