// Jest global setup: says up front which optional suites will be skipped and why. Jest hides
// console output of suites whose tests are all skipped, so the notice has to come from here.
import { browserSuiteFiles, chromiumPath, skipBrowserSuites } from "./browser-suites.mjs";

export default function announceSkips() {
  const notes = [];
  if (skipBrowserSuites) {
    notes.push(`browser suites (${browserSuiteFiles().length} files in test/browser/): SKIPPED (no Chromium at ${chromiumPath}: apt-get install -y chromium, or set ASYMGEN_CHROMIUM; .ci/run installs it and sets ASYMGEN_REQUIRE_CHROMIUM=1)`);
  }
  if (!process.env.MONGODB_URI) {
    notes.push("MongoDB store and end-to-end suites: SKIPPED (set MONGODB_URI, e.g. mongodb://127.0.0.1:27017, to run them)");
  }
  if (process.env.ASYMGEN_E2E_PACKAGE !== "1") {
    notes.push("npm pack + install test (test/e2e/package.test.ts): SKIPPED (set ASYMGEN_E2E_PACKAGE=1 to run it)");
  }
  if (!process.env.ASYMGEN_TEST_POSTGRES) {
    notes.push("PostgreSQL suites: ASYMGEN_TEST_POSTGRES is not set; they use postgres://postgres:postgres@127.0.0.1:5432/postgres and skip if it does not answer");
  }
  for (const note of notes) console.log(`\n[asymgen tests] ${note}`);
}
