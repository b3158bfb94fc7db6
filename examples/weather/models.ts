/**
 * The example model set: what `npm run demo` generates and ingests, and the WeatherSensor of
 * DESIGN.md that the benchmarks use.
 */
import { Ignored, MapTo, ObjectId, ObjectType, PrimaryKey, RealmModel, type Types } from "asymgen";

/** One reading from a weather station, streamed to the server and never read back. */
@RealmModel(ObjectType.asymmetricObject)
export class _WeatherSensor {
  @PrimaryKey()
  @MapTo("_id")
  id!: ObjectId;
  /** The station that took the reading. */
  deviceId!: string;
  temperatureInFahrenheit!: Types.Double;
  barometricPressureInHg!: Types.Double;
  windSpeedInMph!: Types.Int;
  /** Samples taken during the reporting interval. */
  readings!: _Reading[];
  tags!: Set<string>;
  attributes!: Record<string, string>;
  notes?: string;
  location?: _Location;
  @Ignored() scratch!: string;
}

/** A single sample. */
@RealmModel(ObjectType.embeddedObject)
export class _Reading {
  at!: Date;
  value!: Types.Float;
}

/** Where the station stands. */
@RealmModel(ObjectType.embeddedObject)
export class _Location {
  latitude!: Types.Double;
  longitude!: Types.Double;
  elevationInFeet: Types.Int = 0;
}

/** A line of device telemetry. */
@RealmModel(ObjectType.asymmetricObject)
@MapTo("device_event")
export class _DeviceEvent {
  @PrimaryKey()
  @MapTo("_id")
  id!: Types.UUID;
  deviceId!: string;
  kind: string = "heartbeat";
  at: Date = new Date();
  payload?: Types.Mixed;
}
