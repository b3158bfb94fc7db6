// Jest in ESM mode (yargs 18 and the package itself are ESM); ts-jest compiles TypeScript.
import os from "node:os";
import { browserSuiteFiles, skipBrowserSuites } from "./test/support/browser-suites.mjs";

/** @type {import('jest').Config} */
export default {
  // At least two test files at once: Jest's default (cores - 1) runs them one by one on a 2-core
  // machine, where most files spend their time waiting (Chromium, child processes, fsync, timers):
  // the whole suite took 786 s of Jest's time that way and 537 s with two workers (2026-12-07).
  maxWorkers: Math.max(2, os.availableParallelism() - 1),
  testEnvironment: "node",
  extensionsToTreatAsEsm: [".ts"],
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  // No Chromium here: its suites are left out (announced by the global setup; .ci/run requires them).
  testPathIgnorePatterns: ["/node_modules/", ...(skipBrowserSuites ? browserSuiteFiles().map((file) => `^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`) : [])],
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
    // generator/ts-morph.cts, imported as ts-morph.cjs (see that file for why it is CommonJS).
    "^(\\.{1,2}/.*)\\.cjs$": "$1.cts",
  },
  transform: {
    "^.+\\.c?ts$": ["ts-jest", { useESM: true, tsconfig: "tsconfig.json", diagnostics: false }],
  },
  testTimeout: 60000,
  globalSetup: "<rootDir>/test/support/announce-skips.mjs",
};
