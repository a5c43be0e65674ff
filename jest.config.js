// Three projects: pure unit tests, partner adapters against their sandboxes, and tests against the real stack (Temporal dev server, embedded
// Postgres, time-skipping server) that test/setup/globalSetup.ts starts once per run.
const base = {
  preset: 'ts-jest',
  // The node environment, telling waits when the running test times out (test/support/wait.ts).
  testEnvironment: '<rootDir>/test/setup/environment.js',
  moduleFileExtensions: ['ts', 'js', 'json'],
  // The production build (npm run build) is a copy of the sources, package.json included: not a module root.
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
  // The sandbox twins listen on loopback: the egress guard allows it unless the caller's environment says.
  setupFiles: ['<rootDir>/test/setup/egress.ts'],
};

module.exports = {
  testTimeout: 120000,
  // The stack tests share one Temporal server and Postgres; one file at a time keeps the 2-core machine calm.
  maxWorkers: 1,
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    // Each partner adapter against its sandbox twin over real HTTP: no Temporal or Postgres needed.
    { ...base, displayName: 'partners', testMatch: ['<rootDir>/test/partners/**/*.test.ts'] },
    {
      ...base,
      displayName: 'stack',
      testMatch: [
        '<rootDir>/test/workflow/**/*.test.ts',
        '<rootDir>/test/integration/**/*.test.ts',
        '<rootDir>/test/e2e/**/*.test.ts',
      ],
      globalSetup: '<rootDir>/test/setup/globalSetup.ts',
      globalTeardown: '<rootDir>/test/setup/globalTeardown.ts',
    },
  ],
};
