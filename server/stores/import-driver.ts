/**
 * The seam through which the optional store drivers load, in a leaf of its own: the declarations
 * of `@asymgen/server/stores` name it, and must not drag in the drivers' types (`pg`, `mongodb`
 * are optional peers, and so are their type packages).
 */

/** The optional driver packages, by the store URL schemes that need them. */
export type StoreDriverName = "pg" | "mongodb";

/** Imports a driver package by name: `import(name)` unless a test gives another (the module-loader seam). */
export type ImportDriver = (name: StoreDriverName) => Promise<unknown>;
