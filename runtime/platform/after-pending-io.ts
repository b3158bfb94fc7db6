/**
 * Runs a callback once the current turn of the event loop is over and pending I/O has been
 * handled: Node's `setImmediate` (after I/O callbacks, so answers that arrived and transactions
 * committed in them come first); hosts without it (browsers) get a zero timeout, the nearest there.
 */
const setImmediateIfAny = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;

export const afterPendingIo: (callback: () => void) => void =
  typeof setImmediateIfAny === "function" ? (callback) => void setImmediateIfAny(callback) : (callback) => void setTimeout(callback, 0);
