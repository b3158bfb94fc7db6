/**
 * Misuse of generated code that must not compile. Type-checked by `npm run typecheck` and by
 * test/generator/misuse.test.ts: every `@ts-expect-error` below must be used (an unused one is
 * itself an error), and the test also proves each marked line fails on its own.
 */
import { ObjectId, UUID } from "asymgen";
import { BsonWriter, encodeSymbol } from "asymgen/codegen";
import { DeviceEvent, WeatherSensor, encodeWeatherSensor, type WeatherSensorInit } from "../../../examples/weather/models.realm.js";

const ok: WeatherSensorInit = {
  id: new ObjectId(),
  deviceId: "WX1278UIT",
  temperatureInFahrenheit: 72.5,
  barometricPressureInHg: 29.92,
  windSpeedInMph: 12,
  readings: [{ at: new Date(), value: 20.25 }],
  tags: new Set(["roof"]),
  attributes: { site: "north" },
};
const sensor = new WeatherSensor(ok);
const { deviceId: _omitted, ...withoutDeviceId } = ok;

// A missing required key.
// @ts-expect-error deviceId is required
new WeatherSensor(withoutDeviceId);

// Wrong value types.
// @ts-expect-error windSpeedInMph is an int: number | bigint, not a string
new WeatherSensor({ ...ok, windSpeedInMph: "fast" });
// @ts-expect-error tags is a Set, not an array
new WeatherSensor({ ...ok, tags: ["roof"] });
// @ts-expect-error an embedded object's fields are typed too
new WeatherSensor({ ...ok, readings: [{ at: "now", value: 1 }] });
// @ts-expect-error dictionaries hold the declared value type
new WeatherSensor({ ...ok, attributes: { site: 1 } });
// @ts-expect-error the primary key of DeviceEvent is a UUID
new DeviceEvent({ id: new ObjectId(), deviceId: "d" });
// @ts-expect-error an unknown key
new WeatherSensor({ ...ok, humidity: 3 });
// @ts-expect-error @Ignored properties are not part of the init type
new WeatherSensor({ ...ok, scratch: "x" });

// No read path: no query methods on the class, nothing that reads stored data on instances.
// @ts-expect-error there is no objects() query
WeatherSensor.objects;
// @ts-expect-error there is no objectForPrimaryKey()
WeatherSensor.objectForPrimaryKey(ok.id);
// @ts-expect-error instances have no getters beyond their own fields
sensor.someGetter;
// @ts-expect-error instances cannot be re-read as Realm objects
sensor.toJSON();

// Fields are read-only copies of the init object.
// @ts-expect-error readonly
sensor.deviceId = "other";

// The encoder takes this model's init type only.
// @ts-expect-error a DeviceEvent is not a WeatherSensor
encodeWeatherSensor(new BsonWriter(), new DeviceEvent({ id: new UUID(), deviceId: "d" }));
// @ts-expect-error the class's encoder is typed the same way
WeatherSensor[encodeSymbol](new BsonWriter(), { id: new UUID() });

export { sensor };
