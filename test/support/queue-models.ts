/**
 * Hand-written model classes that follow the generated-code contract exactly
 * (runtime/codegen/model-class.ts: `static schema`, `static [encodeSymbol](writer, value)`),
 * small enough for queue and Realm tests that must not depend on the generator.
 */
import { BsonWriter, IngestValidationError, encodeSymbol, type CanonicalObjectSchema } from "asymgen/codegen";

/** Init of `Measurement`. */
export interface MeasurementInit {
  id: number;
  deviceId: string;
  value: number;
  /** Extra bytes, to make documents large. */
  payload?: Uint8Array;
  location?: { latitude: number; longitude: number };
}

/** An asymmetric model persisted as "measurement". */
export class Measurement {
  id: number;
  deviceId: string;
  value: number;
  payload?: Uint8Array;
  location?: { latitude: number; longitude: number };

  static readonly schema: CanonicalObjectSchema = {
    name: "measurement",
    asymmetric: true,
    embedded: false,
    primaryKey: "id",
    properties: {
      id: { name: "id", type: "int", optional: false, indexed: true, mapTo: "_id" },
      deviceId: { name: "deviceId", type: "string", optional: false, indexed: false, mapTo: "deviceId" },
      value: { name: "value", type: "double", optional: false, indexed: false, mapTo: "value" },
      payload: { name: "payload", type: "data", optional: true, indexed: false, mapTo: "payload" },
      location: { name: "location", type: "object", objectType: "Point", optional: true, indexed: false, mapTo: "location" },
    },
  };

  constructor(init: MeasurementInit) {
    this.id = init.id;
    this.deviceId = init.deviceId;
    this.value = init.value;
    if (init.payload !== undefined) this.payload = init.payload;
    if (init.location !== undefined) this.location = init.location;
  }

  static [encodeSymbol](writer: BsonWriter, value: MeasurementInit): void {
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
      if (!Number.isFinite(value.location.latitude)) throw new IngestValidationError("location.latitude", "a finite number");
      writer.double("latitude", value.location.latitude);
      writer.double("longitude", value.location.longitude);
      writer.endDocument(at);
    }
    writer.endDocument(start);
  }
}

/** An embedded model: may be listed in a schema, never ingested on its own. */
export class Point {
  static readonly schema: CanonicalObjectSchema = {
    name: "Point",
    asymmetric: false,
    embedded: true,
    properties: {
      latitude: { name: "latitude", type: "double", optional: false, indexed: false, mapTo: "latitude" },
      longitude: { name: "longitude", type: "double", optional: false, indexed: false, mapTo: "longitude" },
    },
  };

  constructor(readonly init: { latitude: number; longitude: number }) {}

  static [encodeSymbol](writer: BsonWriter, value: { latitude: number; longitude: number }): void {
    const start = writer.startDocument();
    writer.double("latitude", value.latitude);
    writer.double("longitude", value.longitude);
    writer.endDocument(start);
  }
}

/** A second asymmetric model, to mix tables in one transaction. */
export class LogLine {
  static readonly schema: CanonicalObjectSchema = {
    name: "log_line",
    asymmetric: true,
    embedded: false,
    primaryKey: "id",
    properties: {
      id: { name: "id", type: "string", optional: false, indexed: true, mapTo: "_id" },
      text: { name: "text", type: "string", optional: false, indexed: false, mapTo: "text" },
    },
  };

  id: string;
  text: string;

  constructor(init: { id: string; text: string }) {
    this.id = init.id;
    this.text = init.text;
  }

  static [encodeSymbol](writer: BsonWriter, value: { id: string; text: string }): void {
    const start = writer.startDocument();
    writer.string("_id", value.id);
    writer.string("text", value.text);
    writer.endDocument(start);
  }
}
