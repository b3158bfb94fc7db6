/**
 * `Types`, mirroring Realm JS's `Realm.Types`: names a model file writes where plain TypeScript
 * cannot say which database type is meant (`Types.Int` and `Types.Double` are both `number`).
 * The generator follows each reference's symbol back to this file; it never matches on text.
 */
import type { Decimal128 as BsonDecimal128, ObjectId as BsonObjectId, UUID as BsonUUID } from "bson";

/** A value a `Types.Mixed` property may hold: any scalar the database stores. */
export type MixedValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Date
  | BsonObjectId
  | BsonUUID
  | BsonDecimal128
  | Uint8Array
  | ArrayBuffer;

// eslint-disable-next-line @typescript-eslint/no-namespace -- the public name Realm users know.
export declare namespace Types {
  /** A boolean (Realm JS spells it `Types.Bool`; `boolean` means the same). */
  type Bool = boolean;
  /** A string (Realm JS spells it `Types.String`; `string` means the same). */
  type String = string;
  /** A 64-bit integer (stored as BSON Int64). */
  type Int = number;
  /** A 32-bit float. */
  type Float = number;
  /** A 64-bit float. */
  type Double = number;
  type Decimal128 = BsonDecimal128;
  type ObjectId = BsonObjectId;
  type UUID = BsonUUID;
  type Date = globalThis.Date;
  /** Binary data. */
  type Data = ArrayBuffer | Uint8Array;
  /** Any scalar, typed by its value at ingest. */
  type Mixed = MixedValue;
  type List<T> = T[];
  type Set<T> = globalThis.Set<T>;
  /** Without a type argument, a dictionary of mixed values, as in Realm JS. */
  type Dictionary<T = MixedValue> = Record<string, T>;
}
