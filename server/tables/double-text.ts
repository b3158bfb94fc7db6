/**
 * `String(x)` for a double, faster for the doubles telemetry mostly holds: those with a short
 * decimal form (47.6, -122.3, 0.125). V8 prints a non-integer double with its general shortest
 * round-trip algorithm (a few hundred ns a call, no cache); a row of a WeatherSensor document has
 * five of them, in its JSON columns, and the row is made on the SQLite worker, ingest's busiest
 * thread.
 *
 * The fast path first scales x by 10^top, `top` as large as keeps the scaled value below 10^15,
 * and rounds it to an integer. When that integer divided by 10^top is x again (IEEE division is
 * correctly rounded, as parsing the decimal text is), a decimal of at most 15 significant digits
 * gives x back; and only one does (DBL_DIG: two of them never round to the same double), so it is
 * the shortest round-trip decimal `Number.prototype.toString` prints. Its places are then the
 * fewest `j` whose rounded x·10^j divides back to x, found counting up from 1 (short decimals
 * stop after a step or three). x·10^j computed in floating point is within 0.25 of that integer,
 * so rounding finds it. When the first check fails, x needs 16 or 17 digits: `String(x)`, after a
 * few multiplications more. ECMAScript prints an x of 1e-6 ≤ |x| < 1e21 in plain notation; the
 * fast path takes |x| in [1e-6, 1e15) and not an integer. Everything else (integers, NaN,
 * ±Infinity, exponents) is `String(x)` itself.
 */

/** 10^j for j = 0…21, all exact as doubles. */
export const powersOfTen = Array.from({ length: 22 }, (_, j) => 10 ** j);
// 15 significant digits at most: the scaled value stays below 10^15.
const maxDigits = 1e15;

/** Exactly `String(x)`. */
export function doubleText(x: number): string {
  const magnitude = x < 0 ? -x : x;
  const places = Number.isInteger(x) ? 0 : decimalPlaces(magnitude);
  if (places === 0) return String(x);
  // m's last digit is not 0 (else places - 1 would have done): no trailing zeros to strip.
  const digits = String(Math.round(magnitude * (powersOfTen[places] as number)));
  const sign = x < 0 ? "-" : "";
  const whole = digits.length - places;
  if (whole > 0) return `${sign}${digits.slice(0, whole)}.${digits.slice(whole)}`;
  return `${sign}0.${"0".repeat(-whole)}${digits}`;
}

/**
 * The fast path for `magnitude`, |x| of a double x that is not an integer: the decimal places of
 * its shortest round-trip decimal, which is then round(magnitude·10^places) / 10^places; 0 when
 * only `String(x)` can print it (16 or 17 digits, outside [1e-6, 1e15), NaN, ±Infinity).
 */
export function decimalPlaces(magnitude: number): number {
  if (!(magnitude >= 1e-6 && magnitude < maxDigits)) return 0;
  // The most decimal places that keep magnitude·10^top below 10^15 (top ≤ 20 from 1e-6 up).
  let top = 15;
  while (top > 0 && magnitude * (powersOfTen[top] as number) >= maxDigits) top--;
  while (top < 20 && magnitude * (powersOfTen[top + 1] as number) < maxDigits) top++;
  const scaled = Math.round(magnitude * (powersOfTen[top] as number));
  if (scaled >= maxDigits || scaled / (powersOfTen[top] as number) !== magnitude) return 0;
  for (let j = 1; j <= top; j++) {
    const scale = powersOfTen[j] as number;
    if (Math.round(magnitude * scale) / scale === magnitude) return j;
  }
  return 0;
}
