/**
 * The email/password provider's registration (Realm's `app.emailPasswordAuth`).
 */
import type { AppEndpoint } from "./app-endpoint.js";

/** Registers users for `Credentials.emailPassword`. */
export class EmailPasswordAuth {
  /** @internal */
  constructor(private readonly endpoint: AppEndpoint) {}

  /** Registers a new user; throws `AuthError` if the server refuses (taken, weak password…). */
  async registerUser(details: { email: string; password: string }): Promise<void> {
    await this.endpoint.postJson("/auth/providers/local-userpass/register", {
      email: details.email,
      password: details.password,
    });
  }
}
