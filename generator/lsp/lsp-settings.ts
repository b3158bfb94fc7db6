/**
 * The language server's settings: from `initializationOptions` at start, then from the
 * `asymgen` section of `workspace/didChangeConfiguration`.
 */

/** What a client may set. */
export interface LspSettings {
  /** On didSave, regenerate from disk and write the outputs as `asymgen generate` would. Default off. */
  generateOnSave: boolean;
  /**
   * Milliseconds a change waits for more before it is analysed. A change that arrives while an
   * analysis runs waits for it anyway and joins the next one, so bursts cost one analysis each.
   */
  debounceMs: number;
}

/** The defaults: no writes behind the user's back, and a short wait that merges a keystroke burst. */
export const defaultLspSettings: LspSettings = { generateOnSave: false, debounceMs: 15 };

/** `settings` with the fields `raw` sets correctly laid over; anything else in `raw` is ignored. */
export function readLspSettings(raw: unknown, settings: LspSettings): LspSettings {
  if (typeof raw !== "object" || raw === null) return settings;
  const record = raw as Record<string, unknown>;
  const next = { ...settings };
  if (typeof record["generateOnSave"] === "boolean") next.generateOnSave = record["generateOnSave"];
  const debounce = record["debounceMs"];
  if (typeof debounce === "number" && Number.isFinite(debounce) && debounce >= 0) next.debounceMs = debounce;
  return next;
}
