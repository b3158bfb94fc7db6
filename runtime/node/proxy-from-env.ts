/**
 * Which proxy a request goes through, read from the environment as curl reads it:
 * `https_proxy`/`HTTPS_PROXY` for https:// targets (the lowercase name wins), only the lowercase
 * `http_proxy` for http:// targets, and `no_proxy`/`NO_PROXY` for the hosts that go direct.
 * Uppercase `HTTP_PROXY` is ignored on purpose, as curl does ("httpoxy"): a CGI server puts a
 * request's `Proxy:` header into the environment as `HTTP_PROXY`, so a client running under it
 * would send its requests, bearer tokens included, to a proxy the attacker names.
 * A target on this machine (localhost, 127.0.0.0/8, ::1) never goes through a proxy, as in Go
 * and browsers: a proxy elsewhere could not reach it.
 */
import * as net from "node:net";
import { AsymgenError } from "../errors.js";
import { isLoopbackHost } from "../app/is-loopback-host.js";

/** curl's port for a proxy URL that names none (`http://proxy` means port 1080, not 80). */
const DEFAULT_PROXY_PORT = 1080;

/** A proxy to send one request through. */
export interface ProxyChoice {
  /** The proxy's URL (`http://user:password@host:port`); its port is always set. */
  url: URL;
  /** The environment variable it came from, for error messages. */
  variable: string;
}

/** One parsed `NO_PROXY` entry. */
type NoProxyEntry = { kind: "all" } | { kind: "domain"; domain: string; port: string } | { kind: "ip"; list: net.BlockList; port: string };

/** The last parsed environment, so the upload path does not re-parse it per request. */
let cache: { key: string; choice: Map<string, ProxyChoice | null>; noProxy: NoProxyEntry[] } | null = null;

/**
 * The proxy for `target` (a URL the runtime is about to request), or null to connect directly.
 * Throws `AsymgenError` naming the variable when a proxy variable is set but unusable.
 */
export function getProxyForUrl(target: URL, env: NodeJS.ProcessEnv = process.env): ProxyChoice | null {
  const names = target.protocol === "https:" ? ["https_proxy", "HTTPS_PROXY"] : ["http_proxy"];
  const variable = names.find((name) => (env[name] ?? "").trim() !== "");
  if (variable === undefined) return null;
  const noProxyText = env["no_proxy"] ?? env["NO_PROXY"] ?? "";
  const key = `${variable}\u0000${env[variable]}\u0000${noProxyText}`;
  if (cache?.key !== key) cache = { key, choice: new Map(), noProxy: parseNoProxy(noProxyText) };
  const hostname = normalizeHost(target.hostname);
  const port = target.port || (target.protocol === "https:" ? "443" : "80");
  if (isLoopbackHost(target.hostname) || matchesNoProxy(cache.noProxy, hostname, port)) return null;
  let choice = cache.choice.get(variable);
  if (choice === undefined) {
    choice = { url: parseProxyUrl(variable, env[variable]!.trim()), variable };
    cache.choice.set(variable, choice);
  }
  return choice;
}

/** A proxy URL as it may appear in an error message: without its user name and password. */
export function describeProxy(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`;
}

/** The `Proxy-Authorization` header for a proxy URL with credentials (Basic, as curl sends it). */
export function proxyAuthorization(proxy: URL): Record<string, string> {
  if (proxy.username === "" && proxy.password === "") return {};
  // Cannot throw for a URL from getProxyForUrl: parseProxyUrl has decoded both already.
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { "proxy-authorization": `Basic ${Buffer.from(credentials, "utf8").toString("base64")}` };
}

/** A variable's value as an error message may quote it: any `user:password@` replaced by `***@`. */
function redactProxyValue(value: string): string {
  // Up to the last "@" (a password may hold an unescaped "@" or "/"): in a value that does not
  // parse there is no telling where the user-info ends, so more is hidden rather than less.
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)?.*@/is, "$1***@");
}

function parseProxyUrl(variable: string, value: string): URL {
  const shown = `${variable}="${redactProxyValue(value)}"`;
  // curl takes a bare `host:port` as an http:// proxy.
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new AsymgenError(`${shown} is not a proxy URL (expected e.g. http://proxy.example.com:3128)`);
  }
  if (url.protocol !== "http:") {
    throw new AsymgenError(`${shown}: only http:// proxies are supported (the tunnel to an https:// server is still encrypted end to end)`);
  }
  try {
    // Decoded on every request later (proxyAuthorization): a bad escape must fail here, once.
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
  } catch {
    throw new AsymgenError(`${shown}: the proxy user name or password has a malformed %-escape (write a literal "%" as %25)`);
  }
  if (url.port === "") url.port = String(DEFAULT_PROXY_PORT);
  return url;
}

/** Hostnames compare in lower case, without the brackets of an IPv6 literal or a trailing dot. */
function normalizeHost(host: string): string {
  return host.toLowerCase().replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
}

/**
 * Parses curl's `NO_PROXY`: entries separated by commas (or white space); `*` alone matches
 * every host; a name matches itself and every name under it (`example.com`, `.example.com` and
 * `*.example.com` all match `example.com` and `api.example.com`); an IP address or CIDR range
 * matches an IP-literal target (never a name: nothing is resolved); any entry may end in
 * `:port` to match that port only (IPv6 then in brackets: `[::1]:8080`).
 */
function parseNoProxy(text: string): NoProxyEntry[] {
  const entries: NoProxyEntry[] = [];
  for (const raw of text.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === "") continue;
    if (entry === "*") {
      entries.push({ kind: "all" });
      continue;
    }
    const { host, port } = splitHostPort(entry);
    const [address, prefix] = host.split("/", 2) as [string, string | undefined];
    const family = net.isIPv4(address) ? "ipv4" : net.isIPv6(address) ? "ipv6" : null;
    if (family !== null) {
      const list = new net.BlockList();
      const bits = prefix === undefined ? NaN : Number(prefix);
      if (prefix === undefined) list.addAddress(address, family);
      else if (Number.isInteger(bits) && bits >= 0 && bits <= (family === "ipv4" ? 32 : 128)) list.addSubnet(address, bits, family);
      else continue; // A malformed range matches nothing, as in curl.
      entries.push({ kind: "ip", list, port });
      continue;
    }
    const domain = host.replace(/^\*?\./, "").replace(/\.$/, "");
    if (domain !== "") entries.push({ kind: "domain", domain, port });
  }
  return entries;
}

/** `host:port`, `[v6]:port`, a bare IPv6 address (curl's form, without brackets) or a host. */
function splitHostPort(entry: string): { host: string; port: string } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed !== null) return { host: bracketed[1]!, port: bracketed[2] ?? "" };
  const withPort = /^([^:]+):(\d+)$/.exec(entry);
  if (withPort !== null) return { host: withPort[1]!, port: withPort[2]! };
  return { host: entry, port: "" };
}

function matchesNoProxy(entries: readonly NoProxyEntry[], host: string, port: string): boolean {
  const family = net.isIPv4(host) ? "ipv4" : net.isIPv6(host) ? "ipv6" : null;
  return entries.some((entry) => {
    if (entry.kind === "all") return true;
    if (entry.port !== "" && entry.port !== port) return false;
    if (entry.kind === "ip") return family !== null && entry.list.check(host, family);
    return family === null && (host === entry.domain || host.endsWith(`.${entry.domain}`));
  });
}
