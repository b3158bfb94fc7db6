/**
 * What the client does when the server's connection errs or closes. vscode-languageclient's
 * default restarts a server that closed up to four times in three minutes, each time with its own
 * pop-ups; a server that never finished `initialize` (an @asymgen/generator without `asymgen lsp`,
 * `node` missing from the PATH) fails the same way every time, so it is not restarted and the
 * extension says once why (extension.ts). A server that was running gets the default treatment.
 */
import { CloseAction, State, type ErrorHandler, type LanguageClient } from "vscode-languageclient/node";

/** VS Code's own default: four restarts in three minutes before giving up. */
const MAX_RESTARTS = 4;

/** The error handler for `getClient()` (a function: the handler goes into the client's constructor). */
export function createErrorHandler(getClient: () => LanguageClient): ErrorHandler {
  let defaults: ErrorHandler | undefined;
  const defaultHandler = (): ErrorHandler => (defaults ??= getClient().createDefaultErrorHandler(MAX_RESTARTS));
  return {
    error: (error, message, count) => defaultHandler().error(error, message, count),
    closed: () => (getClient().state === State.Running ? defaultHandler().closed() : { action: CloseAction.DoNotRestart, handled: true }),
  };
}
