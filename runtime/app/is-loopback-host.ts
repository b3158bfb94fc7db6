/**
 * Whether a host is this machine: the one place plain HTTP is safe by default (nothing leaves the
 * machine), and the one place a proxy is never used (a proxy elsewhere cannot reach it). The
 * client runtime and the server (its plain-HTTP warning, the JWKS URL check) share this one test.
 *
 * Only names nothing can redirect count: `localhost` itself (every system answers it from its
 * hosts file) and loopback IP literals. Not `*.localhost` (RFC 6761 asks resolvers to keep it
 * local, but glibc and many others send it to DNS, which may answer with any address) and not
 * `localhost.` (a fully qualified name skips the hosts file on glibc): over plain HTTP either
 * could carry a bearer token in clear to another machine.
 */
import * as net from "node:net";

/**
 * True for `localhost`, 127.0.0.0/8, `::1` and IPv4-mapped 127.x (any spelling, with or without
 * brackets: `URL.hostname` and `server.address().address` both work); false for everything else.
 */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  if (name === "localhost") return true;
  if (net.isIPv4(name)) return loopbackV4.check(name, "ipv4");
  // ::ffff:127.0.0.1 (URL writes it ::ffff:7f00:1): an IPv4 loopback address in IPv6 form.
  if (net.isIPv6(name)) return loopbackV6.check(name, "ipv6");
  return false;
}

const loopbackV4 = new net.BlockList();
loopbackV4.addSubnet("127.0.0.0", 8, "ipv4");
const loopbackV6 = new net.BlockList();
loopbackV6.addAddress("::1", "ipv6");
loopbackV6.addSubnet("::ffff:127.0.0.0", 104, "ipv6");
