/**
 * The fault suite (`npm run test:faults`): real processes killed and restarted under load. Kept
 * out of `npm test` (its own root), one file at a time so the load is not shared with another suite.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/faults'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  testTimeout: 60000,
  maxWorkers: 1,
  forceExit: true,
};
