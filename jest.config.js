// Jest in ESM mode (yargs 18 and the package itself are ESM); ts-jest compiles TypeScript.
/** @type {import('jest').Config} */
export default {
  testEnvironment: "node",
  extensionsToTreatAsEsm: [".ts"],
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  moduleNameMapper: {
    // The packages by name resolve to their source (tsconfig.json's `paths` say the same to tsc);
    // "asymgen" is the node entry, which installs the Node platform.
    "^asymgen$": "<rootDir>/runtime/node/index.ts",
    "^asymgen/codegen$": "<rootDir>/runtime/codegen/index.ts",
    "^asymgen/codegen-symbols$": "<rootDir>/runtime/codegen/runtime-symbols.ts",
    "^asymgen/schema$": "<rootDir>/runtime/schema/canonical-schema.ts",
    "^asymgen/protocol$": "<rootDir>/runtime/sync/ingest-protocol.ts",
    "^asymgen/errors$": "<rootDir>/runtime/errors.ts",
    "^asymgen/loopback$": "<rootDir>/runtime/app/is-loopback-host.ts",
    "^asymgen/node/files$": "<rootDir>/runtime/node/write-file-atomically.ts",
    "^@asymgen/generator$": "<rootDir>/generator/index.ts",
    "^@asymgen/server$": "<rootDir>/server/create-server.ts",
    "^@asymgen/server/cli$": "<rootDir>/server/cli.ts",
    "^@asymgen/server/stores$": "<rootDir>/server/stores/open-store.ts",
    "^(\\.{1,2}/.*)\\.js$": "$1",
  },
  transform: {
    "^.+\\.ts$": ["ts-jest", { useESM: true, tsconfig: "tsconfig.json", diagnostics: false }],
  },
  testTimeout: 60000,
  globalSetup: "<rootDir>/test/support/announce-skips.mjs",
};
