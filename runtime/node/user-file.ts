/**
 * The app's users on disk: one small JSON file, replaced atomically (see writeFileAtomically) so
 * a crash leaves the old file or the new one, never half of either. A crash mid-write leaves a
 * temporary copy (0600, refresh tokens inside) that no queue recovery sweeps: every read and
 * write of the file removes the stale ones.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { removeStaleTempFiles, writeFileAtomically } from "./write-file-atomically.js";
import type { PersistedUsers, UserRecord } from "../app/user-record.js";

const FILE_NAME = "users.json";
/** Owner-only: the file holds refresh tokens, which log in as the user until they expire. */
const FILE_MODE = 0o600;

/** Reads the users persisted under `directory`; a missing or unreadable file is no users. */
export function readUserFile(directory: string): PersistedUsers {
  const file = path.join(directory, FILE_NAME);
  removeStaleTempFiles(file);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return { currentUserId: null, users: [] };
  }
  try {
    const value = JSON.parse(text) as Partial<PersistedUsers>;
    const users = Array.isArray(value.users) ? value.users.filter(isUserRecord) : [];
    const currentUserId = typeof value.currentUserId === "string" ? value.currentUserId : null;
    return { currentUserId, users };
  } catch {
    // A corrupt file costs a login, nothing else: queued data lives elsewhere.
    return { currentUserId: null, users: [] };
  }
}

/** Replaces the file under `directory` with `content`, durably, readable by the owner only. */
export function writeUserFile(directory: string, content: PersistedUsers): void {
  fs.mkdirSync(directory, { recursive: true });
  const file = path.join(directory, FILE_NAME);
  removeStaleTempFiles(file);
  writeFileAtomically(file, JSON.stringify(content, null, 2), { mode: FILE_MODE });
}

function isUserRecord(value: unknown): value is UserRecord {
  const record = value as Partial<UserRecord> | null;
  return (
    typeof record === "object" &&
    record !== null &&
    typeof record.id === "string" &&
    typeof record.providerType === "string" &&
    (record.accessToken === null || typeof record.accessToken === "string") &&
    (record.refreshToken === null || typeof record.refreshToken === "string")
  );
}
