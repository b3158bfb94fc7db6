/**
 * How a user proves who they are (Realm's `Credentials`): one factory per provider the ingest
 * server offers.
 */
import type { ProviderType } from "./user-record.js";

/** Credentials for `app.logIn`. */
export class Credentials {
  private constructor(
    /** The App Services provider name the login route takes. */
    readonly providerType: ProviderType,
    /** The login request's JSON body. */
    readonly payload: Readonly<Record<string, unknown>>,
  ) {}

  /** An anonymous user (a logged-in anonymous user of the same app is reused, as in Realm). */
  static anonymous(): Credentials {
    return new Credentials("anon-user", {});
  }

  /** A user registered through `app.emailPasswordAuth.registerUser`. */
  static emailPassword(email: string, password: string): Credentials {
    return new Credentials("local-userpass", { username: email, password });
  }

  /** A server API key (`asymgen apikey create`). */
  static apiKey(key: string): Credentials {
    return new Credentials("api-key", { key });
  }

  /** A JWT signed by your own auth system with the key the server is configured with. */
  static jwt(token: string): Credentials {
    return new Credentials("custom-token", { token });
  }
}
