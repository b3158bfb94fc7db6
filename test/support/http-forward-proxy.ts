/**
 * A real HTTP proxy on loopback for the client's proxy tests: CONNECT tunnels (for https
 * servers) and absolute-URI requests (for http servers), with its own name table so a test can
 * use a host name the client cannot resolve (only a request that really went through the proxy
 * reaches the server), optional Basic credentials, and a log of what it was asked.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import * as net from "node:net";

/** What a test configures. */
export interface ForwardProxyOptions {
  /** Host names the proxy resolves itself (e.g. `{ "ingest.test": "127.0.0.1" }`). */
  hosts?: Record<string, string>;
  /** `user:password` the proxy demands (407 without it). */
  credentials?: string;
}

/** One request the proxy received: `CONNECT host:port`, or the method and absolute URI. */
export interface ProxiedRequest {
  method: string;
  target: string;
  proxyAuthorization: string | null;
}

/** The proxy; `start()` gives its URL. */
export class HttpForwardProxy {
  /** Every request, in order. */
  readonly requests: ProxiedRequest[] = [];
  private readonly server = http.createServer();
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly options: ForwardProxyOptions = {}) {
    this.server.on("connection", (socket) => this.track(socket));
    this.server.on("request", (req, res) => this.forward(req, res));
    this.server.on("connect", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => this.tunnel(req, socket, head));
  }

  /** Listens on 127.0.0.1; resolves to `http://127.0.0.1:<port>`. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Closes the proxy and every connection through it. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
  }

  /** Logs the request; false (after answering 407) when the credentials are missing or wrong. */
  private admit(req: http.IncomingMessage): boolean {
    const authorization = req.headers["proxy-authorization"] ?? null;
    this.requests.push({ method: req.method ?? "", target: req.url ?? "", proxyAuthorization: authorization });
    const expected = this.options.credentials;
    return expected === undefined || authorization === `Basic ${Buffer.from(expected).toString("base64")}`;
  }

  private resolve(host: string): string {
    return this.options.hosts?.[host.toLowerCase()] ?? host;
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (!this.admit(req)) {
      res.writeHead(407, { "proxy-authenticate": 'Basic realm="test"' }).end();
      return;
    }
    let target: URL;
    try {
      target = new URL(req.url ?? "");
    } catch {
      // Origin-form: the client spoke to the proxy as if it were the server.
      res.writeHead(400).end("absolute URI expected");
      return;
    }
    const headers = { ...req.headers };
    delete headers["proxy-authorization"];
    const upstream = http.request(
      { host: this.resolve(target.hostname), port: target.port || 80, method: req.method, path: `${target.pathname}${target.search}`, headers, agent: false },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  }

  private tunnel(req: http.IncomingMessage, client: net.Socket, head: Buffer): void {
    this.track(client);
    if (!this.admit(req)) {
      client.end("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    const match = /^(.+):(\d+)$/.exec(req.url ?? "");
    if (match === null) {
      client.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    const host = match[1]!.replace(/^\[(.*)\]$/, "$1");
    const server = net.connect(Number(match[2]), this.resolve(host), () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) server.write(head);
      server.pipe(client);
      client.pipe(server);
    });
    this.track(server);
    server.on("error", () => client.destroy());
    client.on("error", () => server.destroy());
  }
}
