// swc instead of ts-jest: NestJS 12 is pure ESM and jest on Node 20 cannot
// require ESM, so ESM-only dependencies are transformed to CommonJS here.
// The pattern also matches copies nested inside other packages.
const ESM_DEPS = [
  '@nestjs',
  'jose',
  'cookie',
  'oidc-provider',
  'content-disposition',
  'oauth4webapi',
];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  // test/consumers/ holds app templates for scripts/test-consumers.mjs, not tests of this repo.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/consumers/'],
  transform: {
    '^.+\\.[tj]s$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  // Sources import siblings as './x.js' (needed by the ESM build); jest resolves them to .ts.
  // Sample files a test imports read the package by its name: the sources, not a dist/ that a
  // fresh clone has not built yet (the sample e2e builds and runs the package by itself).
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    '^@voxkey/nestjs$': '<rootDir>/lib/index.ts',
    '^@voxkey/nestjs/(testing|ws|otel)$': '<rootDir>/lib/$1/index.ts',
  },
  transformIgnorePatterns: [
    `/node_modules/(?!(?:(?:@[^/]+/)?[^/]+/node_modules/)*(?:${ESM_DEPS.join('|')})/)`,
  ],
  // Coverage is measured by `npm test` (jest --coverage), over every file of the library,
  // lib/testing included; plain `npx jest` skips it, as it slows the suite.
  collectCoverageFrom: ['lib/**/*.ts'],
  coverageThreshold: { global: { lines: 90, branches: 90 } },
  testTimeout: 15000,
  // The sample e2e builds the package and starts it the way `npm start` does.
  slowTestThreshold: 30,
};
