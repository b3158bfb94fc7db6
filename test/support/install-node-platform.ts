/**
 * Installs the Node platform for tests that use the runtime's files directly rather than the
 * "asymgen" entry (which installs it): `Realm.open` takes its log store from the platform.
 * Import it for its effect before opening a Realm.
 */
import { sendHttpRequest } from "../../runtime/app/http-request.js";
import { openNodeLogStore } from "../../runtime/node/node-log-store.js";
import { installPlatform } from "../../runtime/platform/platform.js";

installPlatform({
  name: "node",
  openLogStore: openNodeLogStore,
  transport: sendHttpRequest,
  warn: (message, code) => process.emitWarning(message, { code }),
});
