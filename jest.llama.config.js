/**
 * `npm run test:llama`: the protocol suite against a real llama.cpp server (test/llama/*.llama.ts), on the same real
 * Temporal dev server setup as `npm test`. One file at a time: llama-server takes both cores.
 * @type {import('jest').Config}
 */
module.exports = {
  ...require('./jest.config.js'),
  testMatch: ['<rootDir>/test/llama/**/*.llama.ts'],
  globalSetup: '<rootDir>/test/llama/global-setup.ts',
  testTimeout: 1_800_000,
  maxWorkers: 1,
};
