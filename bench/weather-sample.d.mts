// Types of weather-sample.mjs, for the TypeScript pages that bundle it (bench/browser/).
import type { WeatherSensorInit } from "../build/examples/weather/models.realm.js";

/** A WeatherSensor init with a fresh id; `n` varies the device, the readings' time and a few values. */
export declare function sampleDocument(n: number): WeatherSensorInit;

/** The generated encoder's bytes for one init. */
export declare function encodeSample(init: WeatherSensorInit): Uint8Array;
