/**
 * The decorators model files use. They do nothing at run time: the generator reads them from
 * the source. Each is typed as a function that accepts any decorator call signature, so a model
 * type-checks both with TC39 decorators and with `experimentalDecorators`.
 */

/** A decorator usable on a class or a field under either decorator mode. */
export type ModelDecorator = (...args: unknown[]) => void;

/** The kind of object a model class declares. */
export enum ObjectType {
  /** Insert-only, top-level, synced to the server and removed locally once acknowledged. */
  asymmetricObject = "asymmetricObject",
  /** Nested inside an asymmetric object; never ingested on its own. */
  embeddedObject = "embeddedObject",
  /** A bi-directionally synced object: out of scope for asymgen; the generator reports it. */
  realmObject = "realmObject",
}

const noop: ModelDecorator = () => {};

/** Marks a class as a model of the given kind. */
export function RealmModel(_kind?: ObjectType): ModelDecorator {
  return noop;
}

/** Marks the primary key property (persisted as `_id` on asymmetric models). */
export function PrimaryKey(): ModelDecorator {
  return noop;
}

/** Persists a property, or a class, under another name. */
export function MapTo(_name: string): ModelDecorator {
  return noop;
}

/** Asks the server store to index the property. */
export function Indexed(): ModelDecorator {
  return noop;
}

/** Leaves the property out of the schema and the encoded document. */
export function Ignored(): ModelDecorator {
  return noop;
}
