/**
 * Whether a URL's host is this machine: the one place plain HTTP is safe by default (nothing
 * leaves the machine), and the one place a proxy is never used (a proxy elsewhere cannot reach it).
 */
import * as net from "node:net";

/** True for `localhost` (and `*.localhost`, RFC 6761), 127.0.0.0/8, `::1` and IPv4-mapped 127.x; `hostname` as `URL.hostname` gives it. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (net.isIPv4(host)) return host.startsWith("127.");
  if (!net.isIPv6(host)) return false;
  // ::ffff:127.0.0.1 (URL writes it as ::ffff:7f00:1): an IPv4 loopback address in IPv6 form.
  return loopbackV6.check(host, "ipv6") || mappedLoopback.check(host, "ipv6");
}

const loopbackV6 = new net.BlockList();
loopbackV6.addAddress("::1", "ipv6");
const mappedLoopback = new net.BlockList();
mappedLoopback.addSubnet("::ffff:127.0.0.0", 104, "ipv6");
