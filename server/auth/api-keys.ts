/**
 * Listing and revoking API keys (`createApiKey` in auth-service.ts makes them). Revoking deletes
 * the key, every session it started, and its user: an access token of the key fails at once,
 * because every request checks that its session still exists.
 */
import { authRecordPages } from "../stores/store.js";
import type { IngestStore } from "../stores/store.js";
import type { ApiKeyRecord, SessionRecord } from "./auth-service.js";

/** An API key as listed: never its hash. */
export interface ApiKeySummary {
  id: string;
  name: string;
  /** ISO time, or null for a key made before creation times were recorded. */
  createdAt: string | null;
  userId: string;
}

/** What a revocation deleted. */
export interface ApiKeyRevocation {
  id: string;
  userId: string;
  sessions: number;
}

/** Every API key of the store, oldest first (keys without a creation time first). */
export async function listApiKeys(store: IngestStore): Promise<ApiKeySummary[]> {
  const keys: ApiKeySummary[] = [];
  for await (const page of authRecordPages(store, "apikey")) {
    for (const { key: id, value } of page) {
      const record = JSON.parse(value) as ApiKeyRecord;
      keys.push({ id, name: record.name, createdAt: record.createdAt ?? null, userId: record.userId });
    }
  }
  return keys.sort((a, b) => (a.createdAt ?? "").localeCompare(b.createdAt ?? "") || a.id.localeCompare(b.id));
}

/**
 * Revokes an API key: deletes it, then its sessions, then its user. Returns null when no key has
 * this id. (A login racing with this is refused by loginApiKey's second look at the key.)
 */
export async function revokeApiKey(store: IngestStore, id: string): Promise<ApiKeyRevocation | null> {
  const text = await store.getAuthRecord("apikey", id);
  if (text === null) return null;
  const { userId } = JSON.parse(text) as ApiKeyRecord;
  // The key first: from here on no new session can start, so the scan below misses none.
  await store.deleteAuthRecord("apikey", id);
  const sessionIds: string[] = [];
  for await (const page of authRecordPages(store, "session")) {
    for (const { key, value } of page) if ((JSON.parse(value) as SessionRecord).userId === userId) sessionIds.push(key);
  }
  const sessions = sessionIds.length === 0 ? 0 : await store.deleteAuthRecords("session", sessionIds);
  await store.deleteAuthRecord("user", userId);
  return { id, userId, sessions };
}
