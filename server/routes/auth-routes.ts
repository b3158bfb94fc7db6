/**
 * The App Services-compatible auth routes (see /work/shared/AUTH-API.md): provider logins,
 * email/password registration, session refresh and logout, and the profile.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { normalizeEmail } from "../auth/auth-service.js";
import type { AuthService } from "../auth/auth-service.js";
import type { AuthThrottle } from "../auth/auth-throttle.js";
import { HttpError } from "../http/http-error.js";
import { readBody } from "../http/read-body.js";
import { sendJson } from "../http/respond.js";

// Auth bodies are a few fields; anything bigger, or slower to arrive, is not a login. At 64 KiB
// each they are left out of the ingest route's byte budget.
const maxAuthBodyBytes = 64 * 1024;
const authBodyTimeoutMs = 10_000;

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readBody(req, { maxBytes: maxAuthBodyBytes, timeoutMs: authBodyTimeoutMs });
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch {
    throw new HttpError(400, "BadRequest", "expected a JSON body");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new HttpError(400, "BadRequest", "expected a JSON object");
  return value as Record<string, unknown>;
}

function requireBearer(bearer: string | null): string {
  if (bearer === null) throw new HttpError(401, "InvalidSession", "must authenticate first");
  return bearer;
}

/** The account a login names, for the throttle (null: none, e.g. a custom token's unverified `sub`). */
function accountOf(provider: "local-userpass" | "api-key", value: unknown): string | null {
  if (typeof value !== "string") return null;
  return provider === "local-userpass" ? `userpass:${normalizeEmail(value)}` : `apikey:${value.split(".")[0] ?? ""}`;
}

/**
 * Handles `POST …/app/:appId/auth/providers/:provider/:action` under the throttle's rate limits;
 * returns false when no such route.
 */
export async function handleProviderRoute(
  auth: AuthService,
  throttle: AuthThrottle,
  provider: string,
  action: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  if (req.method !== "POST") return false;
  const address = throttle.clientAddress(req);
  if (action === "register" && provider === "local-userpass") {
    throttle.registration(address);
    const body = await readJson(req);
    await auth.registerUserpass(body["email"], body["password"]);
    sendJson(res, 201, {});
    return true;
  }
  if (action !== "login") return false;
  switch (provider) {
    case "anon-user":
      // Counted before anything is read or stored: each one is a user and a session in the store.
      throttle.anonymousUser(address);
      await readJson(req);
      sendJson(res, 200, await auth.loginAnonymous());
      return true;
    case "local-userpass": {
      const body = await readJson(req);
      const username = body["username"] ?? body["email"];
      const account = accountOf("local-userpass", username);
      sendJson(res, 200, await throttle.login({ account, limitAccount: true, address }, () => auth.loginUserpass(username, body["password"])));
      return true;
    }
    case "api-key": {
      const body = await readJson(req);
      const account = accountOf("api-key", body["key"]);
      // No per-account lock: the secret is 256 random bits, so guessing it is hopeless, while a
      // lock would let anyone who knows a key's id (logs, a screenshot) lock its device out.
      sendJson(res, 200, await throttle.login({ account, limitAccount: false, address }, () => auth.loginApiKey(body["key"])));
      return true;
    }
    case "custom-token": {
      const body = await readJson(req);
      sendJson(res, 200, await throttle.login({ account: null, limitAccount: false, address }, () => auth.loginCustomToken(body["token"])));
      return true;
    }
    default:
      throw new HttpError(401, "AuthProviderNotFound", `authentication via '${provider}' is unsupported`);
  }
}

/** Handles `POST|DELETE /auth/session` and `GET /auth/profile`; returns false when no such route. */
export async function handleSessionRoute(
  auth: AuthService,
  route: string,
  req: IncomingMessage,
  res: ServerResponse,
  bearer: string | null,
): Promise<boolean> {
  if (route === "session" && req.method === "POST") {
    sendJson(res, 201, { access_token: await auth.refresh(requireBearer(bearer)) });
    return true;
  }
  if (route === "session" && req.method === "DELETE") {
    await auth.logout(requireBearer(bearer));
    sendJson(res, 204, undefined);
    return true;
  }
  if (route === "profile" && req.method === "GET") {
    const user = await auth.authenticate(requireBearer(bearer));
    sendJson(res, 200, await auth.profile(user.userId));
    return true;
  }
  return false;
}
