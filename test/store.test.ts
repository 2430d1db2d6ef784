import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeStore, storeLocation } from '../node/store-location';
import { describeStoreContract } from './helpers/store-contract';

describe('TANDEM_STORE_URL', () => {
  const state = '/state';
  const aws = { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:7070', AWS_REGION: 'eu-west-3' };

  it('defaults to the folder <state>/store, and takes TANDEM_STORE_DIR as the older name of a folder', () => {
    expect(storeLocation({}, state)).toEqual({ kind: 'folder', dir: '/state/store' });
    expect(storeLocation({ TANDEM_STORE_DIR: '/shared/store' }, state)).toEqual({
      kind: 'folder',
      dir: '/shared/store',
    });
  });

  it('reads a folder as a path or a file:// URL', () => {
    expect(storeLocation({ TANDEM_STORE_URL: '/mnt/tandem' }, state)).toEqual({ kind: 'folder', dir: '/mnt/tandem' });
    expect(storeLocation({ TANDEM_STORE_URL: 'file:///mnt/tandem' }, state)).toEqual({
      kind: 'folder',
      dir: '/mnt/tandem',
    });
  });

  it('reads s3://bucket/prefix with the endpoint and region of the standard AWS variables', () => {
    expect(storeLocation({ TANDEM_STORE_URL: 's3://team-store/tandem/prod/', ...aws }, state)).toEqual({
      kind: 's3',
      bucket: 'team-store',
      prefix: 'tandem/prod/',
      endpoint: 'http://127.0.0.1:7070',
      region: 'eu-west-3',
    });
    expect(storeLocation({ TANDEM_STORE_URL: 's3://team-store', AWS_ENDPOINT_URL: 'http://s3.local' }, state)).toEqual({
      kind: 's3',
      bucket: 'team-store',
      prefix: '',
      endpoint: 'http://s3.local',
      region: 'us-east-1',
    });
  });

  it.each([
    ['s3://', /bucket name/],
    ['s3://Team_Store/x', /bucket name/],
    ['s3://team-store/a/../b', /no empty, "\." or "\.\." parts/],
    ['gs://team-store/x', /a folder, a file:\/\/ URL or s3:\/\/BUCKET\/PREFIX/],
  ])('refuses %s, saying what it expects', (url, expected) => {
    expect(() => storeLocation({ TANDEM_STORE_URL: url }, state)).toThrow(expected);
  });

  it('refuses TANDEM_STORE_URL and TANDEM_STORE_DIR naming two stores, since one would be ignored', () => {
    expect(() => storeLocation({ TANDEM_STORE_URL: 's3://team-store/x', TANDEM_STORE_DIR: '/s' }, state)).toThrow(
      /name different stores: unset TANDEM_STORE_DIR/,
    );
    expect(storeLocation({ TANDEM_STORE_URL: '/s', TANDEM_STORE_DIR: '/s/' }, state)).toEqual({
      kind: 'folder',
      dir: '/s',
    });
  });

  it('names a bucket store with its endpoint in messages', () => {
    expect(describeStore(storeLocation({ TANDEM_STORE_URL: 's3://team-store/p', ...aws }, state))).toBe(
      's3://team-store/p/ at http://127.0.0.1:7070',
    );
  });
});

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-store-'));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));
describeStoreContract('folder', () => ({ kind: 'folder', dir }), /tandem-store-/);
