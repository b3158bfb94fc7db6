/**
 * Loading the optional store drivers: `pg` and `mongodb` are optional peer dependencies of the
 * server, imported only when a store URL names them, so a server on the embedded SQLite store
 * runs with neither installed. A missing one is a one-line error saying what to install.
 */
import type pg from "pg";
import type * as mongodb from "mongodb";
import { AsymgenError } from "asymgen/errors";
import type { ImportDriver, StoreDriverName } from "./import-driver.js";

/** The real loader. */
const importDriverPackage: ImportDriver = (name) => import(name);

const schemeOf: Record<StoreDriverName, string> = { pg: "postgres://", mongodb: "mongodb://" };

/** The store URL names a store whose driver package is not installed. */
export class StoreDriverMissingError extends AsymgenError {
  override name = "StoreDriverMissingError";
  constructor(
    /** The package to install. */
    readonly driver: StoreDriverName,
    options?: { cause: unknown },
  ) {
    super(`the ${schemeOf[driver]} store needs the "${driver}" package: npm install ${driver}`, options);
  }
}

/**
 * Imports `name` with `importDriver`; a module that cannot be found becomes StoreDriverMissingError,
 * anything else (a driver that fails while loading) is thrown as it is.
 */
async function importOrExplain(name: StoreDriverName, importDriver: ImportDriver): Promise<unknown> {
  try {
    return await importDriver(name);
  } catch (error) {
    // ESM's code for an unresolvable package; CommonJS's (a driver's own missing dependency).
    const code = (error as { code?: unknown } | null)?.code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") throw new StoreDriverMissingError(name, { cause: error });
    throw error;
  }
}

/** The `pg` package (CommonJS: its API is the default export). */
export async function loadPg(importDriver: ImportDriver = importDriverPackage): Promise<typeof pg> {
  const module = (await importOrExplain("pg", importDriver)) as { default: typeof pg };
  return module.default;
}

/** The `mongodb` package's exports. */
export async function loadMongodb(importDriver: ImportDriver = importDriverPackage): Promise<typeof mongodb> {
  return (await importOrExplain("mongodb", importDriver)) as typeof mongodb;
}
