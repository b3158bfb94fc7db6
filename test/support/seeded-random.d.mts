/** mulberry32: small, fast, deterministic per seed, so a failing run replays from its seed. */
export declare function createSeededRandom(seed: number): () => number;
