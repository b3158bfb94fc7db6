/**
 * doubleText must print exactly what `String(x)` prints, for every double: short decimals (its
 * fast path), full-precision ones, integers, tiny and huge magnitudes, the boundaries of the fast
 * path, and random bit patterns. Seeded: a failure prints its seed and the value.
 */
import { describe, expect, it } from "@jest/globals";
import { doubleText } from "../../../server/tables/double-text.js";
import { createSeededRandom } from "../../support/seeded-random.mjs";

const seed = Number(process.env.ASYMGEN_TEST_SEED ?? 20261207);

/** The values that print differently from String(x), with what each printed (none: the test passes). */
function mismatches(values: Iterable<number>): { x: number; fast: string; string: string }[] {
  const wrong: { x: number; fast: string; string: string }[] = [];
  for (const x of values) {
    const fast = doubleText(x);
    if (fast !== String(x)) wrong.push({ x, fast, string: String(x) });
  }
  return wrong;
}

describe("doubleText", () => {
  it("prints the edge values as String does", () => {
    const edges = [0, -0, NaN, Infinity, -Infinity, 1, -1, 0.5, -0.5, 0.1, 0.2, 0.3, 0.1 + 0.2, 1 / 3, 2 / 3, Math.PI, Math.E, -122.3, 47.6, 29.92];
    const bounds = [1e-6, 1e-7, 9.99999e-7, 1.5e-6, 0.000001, 0.0000015, 1e15, 1e15 - 0.5, 999999999999999.9, 99999999999999.98, 1e21, 1e-300, 5e-324];
    const extremes = [Number.MAX_VALUE, Number.MIN_VALUE, Number.EPSILON, Number.MAX_SAFE_INTEGER, 2 ** 53 + 2, 123456789012345.6, 12345678901234.56, 0.1234567890123456, 9007199254740.993];
    const all = [...edges, ...bounds, ...extremes];
    expect(mismatches([...all, ...all.map((x) => -x), ...all.map((x) => x * 1.0000000000000002)])).toEqual([]);
  });

  it(`prints random decimals of 1 to 17 significant digits, at every scale from 1e-8 to 1e16, as String does (seed ${seed})`, () => {
    const random = createSeededRandom(seed);
    const values: number[] = [];
    for (let i = 0; i < 200_000; i++) {
      const digits = 1 + Math.floor(random() * 17);
      const mantissa = Math.floor(random() * 10 ** digits);
      const exponent = -8 - digits + Math.floor(random() * (26 + digits));
      const x = Number(`${random() < 0.5 ? "-" : ""}${mantissa}e${exponent}`);
      values.push(x, x + Number.EPSILON * Math.abs(x), x / 3);
    }
    expect(mismatches(values)).toEqual([]);
  });

  it(`prints random bit patterns and sensor-like readings as String does (seed ${seed})`, () => {
    const random = createSeededRandom(seed + 1);
    const view = new DataView(new ArrayBuffer(8));
    const values: number[] = [];
    for (let i = 0; i < 200_000; i++) {
      view.setUint32(0, Math.floor(random() * 2 ** 32));
      view.setUint32(4, Math.floor(random() * 2 ** 32));
      values.push(view.getFloat64(0));
      // Readings as a device computes them: a few decimals, sums and scalings of them.
      const reading = Math.round(random() * 2_000_000 - 1_000_000) / 100;
      values.push(reading, reading * 1.8 + 32, reading / 7, 60 + (i % 100) / 10);
    }
    expect(mismatches(values)).toEqual([]);
  });
});
