/**
 * Buffer's own slicers: what `toString(encoding, start, end)` calls once it has checked its
 * arguments (not in @types/node). Callers keep `0 ≤ start ≤ end ≤ length` themselves: these throw
 * ERR_OUT_OF_RANGE where `toString` would clamp.
 */
export interface BufferSlicers {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
  hexSlice(start: number, end: number): string;
}
