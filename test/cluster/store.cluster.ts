/** The store contract (test/helpers/store-contract.ts) on the cluster's S3 server, and its S3-only failures. */
import { contentStore } from '../../activities/content-store';
import { storeLocation, type StoreLocation } from '../../node/store-location';
import { describeStoreContract } from '../helpers/store-contract';

const bucketStore = (): StoreLocation => storeLocation(process.env, '/unused');

describeStoreContract('S3', bucketStore, /s3:\/\/tandem\/ at http:\/\/127\.0\.0\.1:\d+/);

describe('the S3 store, when the bucket is not what TANDEM_STORE_URL says', () => {
  it('names a missing bucket and says to create it', async () => {
    const location = { ...bucketStore(), bucket: 'no-such-bucket' } as StoreLocation;
    await expect(contentStore(location).put('x')).rejects.toThrow(
      /in s3:\/\/no-such-bucket\/ at .* failed: the bucket does not exist: create it, or fix the bucket in TANDEM_STORE_URL/,
    );
  });

  it('says which variables to check when the credentials are wrong', async () => {
    const saved = process.env.AWS_SECRET_ACCESS_KEY;
    process.env.AWS_SECRET_ACCESS_KEY = 'wrong';
    try {
      await expect(contentStore(bucketStore()).put(`x ${Date.now()}`)).rejects.toThrow(
        /check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/,
      );
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = saved;
    }
  });
});
