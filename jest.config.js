/** Tests run against the TypeScript sources through ts-jest; `tsc --noEmit` does the type check. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  testTimeout: 30000,
  maxWorkers: 2,
  // A suite that fails in its setup can leave a server open; the run must still end (the leak test
  // in test/integration/reload.test.ts checks handles on purpose).
  forceExit: true,
};
