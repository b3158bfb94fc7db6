/**
 * The secret that signs the server's access tokens. It lives outside the data store: the store is
 * what downstream readers (analysts, ETL jobs, backups) are given, and anyone holding the secret
 * can mint an access token for any user. Sources, first found wins: an explicit secret
 * (`ASYMGEN_SECRET`), a key file (`--secret-file`, created 0600 with a random secret when missing),
 * or, for programs that set neither, a random secret kept in memory for the life of the process
 * (a restart then costs each client one refresh, since refresh tokens live in the store).
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { createFileAtomically, removeStaleTempFiles } from "asymgen/node/files";
import type { Logger } from "../logger.js";
import type { IngestStore } from "../stores/store.js";

/** HMAC-SHA256 keys shorter than its 32-byte output weaken it (RFC 7518 §3.2 requires at least that). */
export const minSecretBytes = 32;

/** Where the secret comes from. */
export interface AccessTokenSecretSource {
  /** The secret itself (`ASYMGEN_SECRET`). */
  secret?: string;
  /** A file holding it; created with a random secret, mode 0600, when missing. */
  secretFile?: string;
}

/** Checks an explicit secret's length; throws a user-facing Error naming `what`. */
function requireStrongSecret(secret: string, what: string): Buffer {
  const bytes = Buffer.from(secret, "utf8");
  if (bytes.length < minSecretBytes)
    throw new Error(`${what} must be at least ${minSecretBytes} bytes (it has ${bytes.length}); make one with: openssl rand -base64 32`);
  return bytes;
}

/**
 * Reads the key file, or creates it when missing: mode 0600 whatever the umask, and atomically
 * (a complete copy linked into place), so servers starting together on one machine agree on the
 * first one written and none reads it empty.
 */
function readOrCreateSecretFile(file: string, logger: Logger, retried = false): Buffer {
  try {
    const stat = fs.statSync(file);
    // Group- or world-readable: warn rather than refuse, since mounted secrets (Kubernetes,
    // Docker) are often 0644 and behind a directory that is not.
    if ((stat.mode & 0o077) !== 0)
      logger.log("warn", "the access-token secret file is readable by other users: chmod 600 it", { file, mode: (stat.mode & 0o777).toString(8) });
    return requireStrongSecret(fs.readFileSync(file, "utf8").trim(), `the secret in ${file}`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  // Still missing after another server's create won: a link to nowhere stands there.
  if (retried) throw new Error(`the access-token secret file ${file} is a link to a file that does not exist`);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Copies a crash left between writing and linking hold a secret nobody uses.
  removeStaleTempFiles(file);
  const secret = crypto.randomBytes(32).toString("base64");
  // Another server created it between our stat and this: use theirs.
  if (!createFileAtomically(file, `${secret}\n`, { mode: 0o600 })) return readOrCreateSecretFile(file, logger, true);
  logger.log("info", "created the access-token secret file (mode 0600)", { file });
  return Buffer.from(secret, "utf8");
}

/**
 * Returns the access-token secret from `source`, and removes the one older versions kept in the
 * store's auth records (its access tokens stop working; clients refresh them with their refresh
 * tokens, which stay valid).
 */
export async function loadAccessTokenSecret(source: AccessTokenSecretSource, store: IngestStore, logger: Logger): Promise<Buffer> {
  if (source.secret !== undefined && source.secretFile !== undefined)
    throw new Error("give the access-token secret one way: ASYMGEN_SECRET or a secret file, not both");
  if (await store.deleteAuthRecord("secret", "access-token"))
    logger.log("warn", "removed the access-token secret that older versions kept in the store; clients refresh their access tokens", {});
  if (source.secret !== undefined) return requireStrongSecret(source.secret, "the access-token secret (ASYMGEN_SECRET)");
  if (source.secretFile !== undefined) return readOrCreateSecretFile(path.resolve(source.secretFile), logger);
  return crypto.randomBytes(32);
}
