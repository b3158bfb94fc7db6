// One seeded PRNG for every test that draws at random (fault injection, fuzzing, crash timing),
// in plain JavaScript so the .mjs child programs under test/**/children/ can import it too.

/** mulberry32: small, fast, deterministic per seed, so a failing run replays from its seed. */
export function createSeededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
