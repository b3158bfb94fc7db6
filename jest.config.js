// Jest in ESM mode (yargs 18 and the package itself are ESM); ts-jest compiles TypeScript.
/** @type {import('jest').Config} */
export default {
  testEnvironment: "node",
  extensionsToTreatAsEsm: [".ts"],
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  moduleNameMapper: {
    "^asymgen$": "<rootDir>/runtime/index.ts",
    "^asymgen/codegen$": "<rootDir>/runtime/codegen/index.ts",
    "^asymgen/generator$": "<rootDir>/generator/index.ts",
    "^(\\.{1,2}/.*)\\.js$": "$1",
  },
  transform: {
    "^.+\\.ts$": ["ts-jest", { useESM: true, tsconfig: "tsconfig.json", diagnostics: false }],
  },
  testTimeout: 60000,
  globalSetup: "<rootDir>/test/support/announce-skips.mjs",
};
