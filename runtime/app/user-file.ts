/**
 * The app's users on disk: one small JSON file, replaced atomically (write, fsync, rename) so a
 * crash leaves the old file or the new one, never half of either.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { UserRecord } from "./user.js";

/** What the file holds. */
export interface UserFileContent {
  currentUserId: string | null;
  users: UserRecord[];
}

const FILE_NAME = "users.json";

/** Reads the users persisted under `directory`; a missing or unreadable file is no users. */
export function readUserFile(directory: string): UserFileContent {
  let text: string;
  try {
    text = fs.readFileSync(path.join(directory, FILE_NAME), "utf8");
  } catch {
    return { currentUserId: null, users: [] };
  }
  try {
    const value = JSON.parse(text) as Partial<UserFileContent>;
    const users = Array.isArray(value.users) ? value.users.filter(isUserRecord) : [];
    const currentUserId = typeof value.currentUserId === "string" ? value.currentUserId : null;
    return { currentUserId, users };
  } catch {
    // A corrupt file costs a login, nothing else: queued data lives elsewhere.
    return { currentUserId: null, users: [] };
  }
}

/** Replaces the file under `directory` with `content`, durably. */
export function writeUserFile(directory: string, content: UserFileContent): void {
  fs.mkdirSync(directory, { recursive: true });
  const target = path.join(directory, FILE_NAME);
  const temporary = `${target}.${process.pid}.tmp`;
  const fd = fs.openSync(temporary, "w", 0o600);
  try {
    fs.writeSync(fd, JSON.stringify(content, null, 2));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, target);
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
