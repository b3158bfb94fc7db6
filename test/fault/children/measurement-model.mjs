// The sync tests' model (test/support/queue-models.ts's Measurement and Point) in plain
// JavaScript, following the generated-code contract, for child processes (no TS loader).
import { BsonWriter, IngestValidationError, encodeSymbol } from "../../../dist/runtime/codegen/index.js";

const prop = (name, type, extra = {}) => ({ name, type, optional: false, indexed: false, mapTo: name, ...extra });

export class Measurement {
  static schema = {
    name: "measurement",
    asymmetric: true,
    embedded: false,
    primaryKey: "id",
    properties: {
      id: prop("id", "int", { indexed: true, mapTo: "_id" }),
      deviceId: prop("deviceId", "string"),
      value: prop("value", "double"),
      payload: prop("payload", "data", { optional: true }),
      location: prop("location", "object", { objectType: "Point", optional: true }),
    },
  };

  constructor(init) {
    Object.assign(this, init);
  }

  /** @param {BsonWriter} writer */
  static [encodeSymbol](writer, value) {
    const start = writer.startDocument();
    if (!Number.isSafeInteger(value.id)) throw new IngestValidationError("id", "an integer");
    writer.int64("_id", value.id);
    if (typeof value.deviceId !== "string") throw new IngestValidationError("deviceId", "a string");
    writer.string("deviceId", value.deviceId);
    if (typeof value.value !== "number" || !Number.isFinite(value.value)) throw new IngestValidationError("value", "a finite number");
    writer.double("value", value.value);
    if (value.payload !== undefined) writer.binary("payload", value.payload);
    if (value.location !== undefined) {
      const at = writer.startObject("location");
      writer.double("latitude", value.location.latitude);
      writer.double("longitude", value.location.longitude);
      writer.endDocument(at);
    }
    writer.endDocument(start);
  }
}

export class Point {
  static schema = {
    name: "Point",
    asymmetric: false,
    embedded: true,
    properties: { latitude: prop("latitude", "double"), longitude: prop("longitude", "double") },
  };

  constructor(init) {
    Object.assign(this, init);
  }

  static [encodeSymbol](writer, value) {
    const start = writer.startDocument();
    writer.double("latitude", value.latitude);
    writer.double("longitude", value.longitude);
    writer.endDocument(start);
  }
}
