/**
 * Reads the JSON answers of the auth routes: a body that is not a JSON object reads as `{}`, so
 * callers check each field they need and name what is missing.
 */
import type { HttpResponse } from "./http-transport.js";

/** Parses a JSON answer body; an empty, unparseable or non-object body is `{}`. */
export function parseJsonBody(response: HttpResponse): Record<string, unknown> {
  if (response.body.length === 0) return {};
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(response.body));
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
