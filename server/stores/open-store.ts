/**
 * Opens a store from its URL: `sqlite:PATH` (or a bare path), `postgres://…`/`postgresql://…`,
 * `mongodb://…`/`mongodb+srv://…`.
 */
import { openMongodbStore } from "./mongodb-store.js";
import { openPostgresStore } from "./postgres-store.js";
import { openSqliteStore } from "./sqlite-store.js";
import type { IngestStore } from "./store.js";

/** The default store: the embedded SQLite file. */
export const defaultStoreUrl = "sqlite:./asymgen-data/ingest.sqlite";

/** Opens the store a URL names. */
export async function openStore(url: string = defaultStoreUrl): Promise<IngestStore> {
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) return openPostgresStore(url);
  if (url.startsWith("mongodb://") || url.startsWith("mongodb+srv://")) return openMongodbStore(url);
  const sqliteFile = sqliteFileOf(url);
  if (sqliteFile !== null) return openSqliteStore(sqliteFile);
  throw new Error(`unsupported store URL "${url}": use sqlite:PATH, postgres://… or mongodb://…`);
}

/** The SQLite file a store URL names (`sqlite:PATH`, `sqlite:///abs`, a bare path), or null for another kind. */
export function sqliteFileOf(url: string): string | null {
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) return null;
  if (url.startsWith("mongodb://") || url.startsWith("mongodb+srv://")) return null;
  if (url.startsWith("sqlite:")) return url.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "");
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return null;
  return url;
}
