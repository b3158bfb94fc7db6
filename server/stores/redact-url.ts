/**
 * Store URLs in logs, shared by the stores that connect over the network.
 */

/** A connection URL with its password replaced by `***` (for logs). */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, "//***@");
  }
}
