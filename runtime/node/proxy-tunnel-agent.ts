/**
 * The agents that send requests through an HTTP proxy: for an https:// server, a CONNECT tunnel
 * through the proxy with TLS to the server inside it (the proxy sees neither tokens nor data);
 * for an http:// server, plain keep-alive connections to the proxy itself. Both keep their
 * connections alive, so an upload through a proxy pays for the tunnel and the TLS handshake once.
 */
import http from "node:http";
import https from "node:https";
import * as net from "node:net";
import type { Duplex } from "node:stream";
import * as tls from "node:tls";
import { describeProxy, proxyAuthorization } from "./proxy-from-env.js";

/** How long the proxy may take to answer a CONNECT; the request's own deadline (its signal) still ends it sooner. */
const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;

/** An https agent whose connections are TLS inside a CONNECT tunnel through `proxy`. */
export class ProxyTunnelAgent extends https.Agent {
  constructor(
    /** The proxy (http://, port set). */
    readonly proxy: URL,
  ) {
    // The global agent's TLS options (a `ca` an app set there) apply through the proxy too.
    super({ ...https.globalAgent.options, keepAlive: true });
  }

  /** Opens the tunnel, then TLS over it; Node's Agent accepts a socket passed to `callback` later. */
  override createConnection(options: https.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const done = callback ?? (() => undefined);
    // Node's Agent reads only the error when there is one; the typings want a stream regardless.
    const fail = (error: Error): void => (done as (err: Error) => void)(error);
    const host = (options.host ?? options.hostname ?? "localhost").replace(/^\[(.*)\]$/, "$1");
    const authority = `${net.isIPv6(host) ? `[${host}]` : host}:${options.port ?? 443}`;
    const through = describeProxy(this.proxy);
    const connect = http.request({
      host: this.proxy.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: Number(this.proxy.port),
      method: "CONNECT",
      path: authority,
      headers: { host: authority, ...proxyAuthorization(this.proxy) },
      agent: false,
      timeout: DEFAULT_CONNECT_TIMEOUT_MS,
    });
    connect.once("connect", (answer, socket, head) => {
      if (answer.statusCode !== 200) {
        socket.destroy();
        fail(new Error(`the proxy ${through} refused CONNECT ${authority}: HTTP ${answer.statusCode} ${answer.statusMessage ?? ""}`.trim()));
        return;
      }
      // Bytes the proxy sent past its answer belong to the server's side of the tunnel.
      if (head.length > 0) socket.unshift(head);
      done(null, tls.connect({ ...options, socket } as tls.ConnectionOptions));
    });
    connect.once("timeout", () => connect.destroy(new Error(`the proxy ${through} did not answer CONNECT ${authority} in time`)));
    connect.once("error", (error) => fail(new Error(`the proxy ${through} could not open a tunnel to ${authority}: ${error.message}`)));
    connect.end();
    return undefined;
  }
}

const tunnelAgents = new Map<string, ProxyTunnelAgent>();
const forwardAgents = new Map<string, http.Agent>();

/** The tunnel agent of `proxy` (one per proxy URL, so its tunnels are reused). */
export function getTunnelAgent(proxy: URL): ProxyTunnelAgent {
  let agent = tunnelAgents.get(proxy.href);
  if (agent === undefined) {
    agent = new ProxyTunnelAgent(proxy);
    tunnelAgents.set(proxy.href, agent);
  }
  return agent;
}

/** The keep-alive agent for plain-http requests to `proxy` (absolute-URI form). */
export function getForwardAgent(proxy: URL): http.Agent {
  let agent = forwardAgents.get(proxy.href);
  if (agent === undefined) {
    agent = new http.Agent({ keepAlive: true });
    forwardAgents.set(proxy.href, agent);
  }
  return agent;
}
