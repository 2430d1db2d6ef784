/**
 * `npm run test:cluster`: tandem on a real cluster on this machine (scripts/cluster.sh: PostgreSQL, the Temporal
 * server, versitygw), with `tandem worker` processes that share nothing but the store and the server
 * (test/cluster/*.cluster.ts). One file at a time: each starts three workers on two cores.
 * @type {import('jest').Config}
 */
module.exports = {
  ...require('./jest.config.js'),
  testMatch: ['<rootDir>/test/cluster/**/*.cluster.ts'],
  globalSetup: '<rootDir>/test/cluster/global-setup.ts',
  globalTeardown: '<rootDir>/test/cluster/global-teardown.ts',
  testTimeout: 300_000,
  maxWorkers: 1,
};
