/** Tests run against the TypeScript sources through ts-jest; `tsc --noEmit` does the type check. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The fault suite kills processes under load for minutes: it runs on its own (npm run test:faults).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/faults/'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  testTimeout: 30000,
  maxWorkers: 2,
  // A suite that fails in its setup can leave a server open; the run must still end (the leak test
  // in test/integration/reload.test.ts checks handles on purpose).
  forceExit: true,
  // `npm test` adds --coverage: what the in-process tests run of src/ (the e2e tests' child
  // processes are not counted). V8's own counters: no instrumented copy of the code to build.
  collectCoverageFrom: ['src/**/*.ts'],
  coverageProvider: 'v8',
  coverageReporters: ['text-summary'],
};
