/**
 * A TCP proxy for fault tests: forwards 127.0.0.1:port → target, and on demand cuts the network
 * (refuses and resets everything) or, in chaos mode, resets, stalls and truncates connections at
 * random from a seeded generator, so a failing run can be replayed from its printed seed.
 */
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import { createSeededRandom } from "./seeded-random.mjs";


/** Probabilities per forwarded chunk (each direction), in chaos mode. */
export interface ChaosOptions {
  seed: number;
  /** Reset both sides (RST). */
  reset: number;
  /** Stop forwarding on this connection for good (the client's timeout has to notice). */
  stall: number;
  /** Forward a random prefix of the chunk, then close both sides. */
  truncate: number;
}

/** Counts of what the proxy did. */
export interface ProxyStats {
  connections: number;
  resets: number;
  stalls: number;
  truncations: number;
  bytesForwarded: number;
}


/** A running proxy. */
export class TcpProxy {
  readonly stats: ProxyStats = { connections: 0, resets: 0, stalls: 0, truncations: 0, bytesForwarded: 0 };
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private offline = false;
  private chaos: (ChaosOptions & { random: () => number }) | null = null;

  private constructor(private targetPort: number, private readonly targetHost: string) {
    this.server = net.createServer((client) => this.handle(client));
  }

  /** Starts a proxy to `targetHost:targetPort` on a free loopback port. */
  static async start(targetPort: number, targetHost = "127.0.0.1"): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetPort, targetHost);
    await new Promise<void>((resolve) => proxy.server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  /** The port clients connect to. */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The proxy's base URL. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Points new connections at another target port (a restarted server). */
  retarget(port: number): void {
    this.targetPort = port;
  }

  /** The network goes away: every connection is reset and new ones are reset on accept. */
  cut(): void {
    this.offline = true;
    for (const socket of this.sockets) socket.resetAndDestroy();
    this.sockets.clear();
  }

  /** The network comes back. */
  restore(): void {
    this.offline = false;
  }

  /** Starts (or with null, stops) random resets, stalls and truncations. */
  setChaos(options: ChaosOptions | null): void {
    this.chaos = options === null ? null : { ...options, random: createSeededRandom(options.seed) };
  }

  /** Closes the proxy and every connection. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(client: net.Socket): void {
    this.stats.connections++;
    if (this.offline) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(this.targetPort, this.targetHost);
    this.sockets.add(client);
    this.sockets.add(upstream);
    let stalled = false;
    const finish = (): void => {
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    const killBoth = (): void => {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
      finish();
    };
    const forward = (to: net.Socket) => (chunk: Buffer) => {
      if (stalled) return;
      const chaos = this.chaos;
      if (chaos !== null) {
        const roll = chaos.random();
        if (roll < chaos.reset) {
          this.stats.resets++;
          killBoth();
          return;
        }
        if (roll < chaos.reset + chaos.stall) {
          this.stats.stalls++;
          stalled = true;
          return;
        }
        if (roll < chaos.reset + chaos.stall + chaos.truncate) {
          this.stats.truncations++;
          const keep = Math.floor(chaos.random() * chunk.length);
          to.write(chunk.subarray(0, keep), () => killBoth());
          return;
        }
      }
      this.stats.bytesForwarded += chunk.length;
      to.write(chunk);
    };
    client.on("data", forward(upstream));
    upstream.on("data", forward(client));
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("close", () => {
      upstream.destroy();
      finish();
    });
    upstream.on("close", () => {
      client.destroy();
      finish();
    });
  }
}
