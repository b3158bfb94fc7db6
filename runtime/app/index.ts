/**
 * The app and auth layer: `App`, `Credentials`, `User`.
 */
export { App } from "./app.js";
export type { AppConfiguration } from "./app.js";
export { Credentials } from "./credentials.js";
export { User } from "./user.js";
export type { ProviderType, UserState } from "./user.js";
export { AuthError, SessionExpiredError, NetworkError, ResponseTooLargeError, InsecureConnectionError } from "./auth-error.js";
