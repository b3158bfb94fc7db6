/**
 * Opens a store from its URL: `sqlite:PATH` (or a bare path), `postgres://…`/`postgresql://…`,
 * `mongodb://…`/`mongodb+srv://…`. The PostgreSQL and MongoDB drivers are optional packages,
 * loaded only when a URL names their store (see load-store-driver.ts).
 */
import { openMongodbStore } from "./mongodb-store.js";
import { openPostgresStore } from "./postgres-store.js";
import { openSqliteStore } from "./sqlite-store.js";
import type { ImportDriver } from "./import-driver.js";
import type { IngestStore } from "./store.js";

/** The default store: the embedded SQLite file. */
export const defaultStoreUrl = "sqlite:./asymgen-data/ingest.sqlite";

/** How a store is opened: `importDriver` loads a driver package (a test seam; `import()` by default). */
export interface OpenStoreOptions {
  importDriver?: ImportDriver;
}

/** Opens the store a URL names; rejects with StoreDriverMissingError when its driver package is not installed. */
export async function openStore(url: string = defaultStoreUrl, options: OpenStoreOptions = {}): Promise<IngestStore> {
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) return openPostgresStore(url, options);
  if (url.startsWith("mongodb://") || url.startsWith("mongodb+srv://")) return openMongodbStore(url, options);
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
