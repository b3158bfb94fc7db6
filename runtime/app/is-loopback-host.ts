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
 *
 * Pure string parsing, no `node:net`: `App` refuses plain http to other machines on every
 * platform, browsers included. The literals accepted are the ones Node's `net.isIPv4`/`isIPv6`
 * accept (dotted decimal without leading zeros; RFC 4291 text forms with an optional zone).
 */

/**
 * True for `localhost`, 127.0.0.0/8, `::1` and IPv4-mapped 127.x (any spelling, with or without
 * brackets: `URL.hostname` and `server.address().address` both work); false for everything else.
 */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  if (name === "localhost") return true;
  const v4 = parseIPv4(name);
  if (v4 !== null) return v4[0] === 127;
  const groups = parseIPv6(name);
  if (groups === null) return false;
  // ::1, and ::ffff:127.0.0.0/104 (URL writes ::ffff:127.0.0.1 as ::ffff:7f00:1): an IPv4
  // loopback address in IPv6 form.
  const zeroPrefix = groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0;
  if (zeroPrefix && groups[5] === 0 && groups[6] === 0 && groups[7] === 1) return true;
  return zeroPrefix && groups[5] === 0xffff && groups[6]! >> 8 === 127;
}

const IPV4_OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]\\d|\\d)";
const IPV4 = new RegExp(`^${IPV4_OCTET}\\.${IPV4_OCTET}\\.${IPV4_OCTET}\\.${IPV4_OCTET}$`);

/** The four octets of a dotted-decimal IPv4 literal, or null. */
function parseIPv4(text: string): number[] | null {
  return IPV4.test(text) ? text.split(".").map(Number) : null;
}

const HEX_GROUP = /^[0-9a-f]{1,4}$/;

/** The eight 16-bit groups of an IPv6 literal (a `%zone` suffix ignored), or null. */
function parseIPv6(text: string): number[] | null {
  const zone = text.indexOf("%");
  const address = zone === -1 ? text : text.slice(0, zone);
  if (zone !== -1 && zone === text.length - 1) return null;
  const halves = address.split("::");
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? parseGroups(halves[1]!, true) : [];
  if (head === null || tail === null) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  // "::" stands for at least one group of zeros.
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return null;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

/** Colon-separated hex groups; the last may be a dotted IPv4 address (two groups) when `mayEndInIPv4`. */
function parseGroups(text: string, mayEndInIPv4: boolean): number[] | null {
  if (text === "") return [];
  const parts = text.split(":");
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (HEX_GROUP.test(part)) {
      groups.push(parseInt(part, 16));
      continue;
    }
    const v4 = mayEndInIPv4 && i === parts.length - 1 ? parseIPv4(part) : null;
    if (v4 === null) return null;
    groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
  }
  return groups;
}
