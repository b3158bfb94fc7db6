// Which test files need Chromium, and whether they run: read by jest.config.js (to leave them out)
// and by the global setup (to say so). Without a Chromium at ASYMGEN_CHROMIUM (default Debian's
// /usr/bin/chromium) they are skipped with a notice, as the PostgreSQL suites are without a
// server; ASYMGEN_REQUIRE_CHROMIUM=1 (set by .ci/run, which installs it) runs them anyway, so a
// missing browser fails there instead of passing unseen.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const chromiumPath = process.env.ASYMGEN_CHROMIUM ?? "/usr/bin/chromium";

export const skipBrowserSuites = process.env.ASYMGEN_REQUIRE_CHROMIUM !== "1" && !fs.existsSync(chromiumPath);

const browserDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "browser");

/** The test files of test/browser/ that start Chromium (directly or through the Realm fixture). */
export function browserSuiteFiles() {
  return fs
    .readdirSync(browserDir)
    .filter((name) => name.endsWith(".test.ts"))
    .map((name) => path.join(browserDir, name))
    .filter((file) => /support\/chromium\.js|startRealmFixture/.test(fs.readFileSync(file, "utf8")));
}
