/**
 * A TCP proxy for fault tests: forwards 127.0.0.1:port → one target, or round-robin over several
 * as a load balancer does (a target that refuses the connection is skipped for the next one). On
 * demand it cuts the network (refuses and resets everything) or, in chaos mode, resets, stalls and
 * truncates connections at random from a seeded generator, so a failing run can be replayed from
 * its printed seed.
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
  /** Connection attempts a target refused, each passed on to the next target. */
  failovers: number;
  /** Connections forwarded, by target port. */
  byTarget: Map<number, number>;
}


/** A running proxy. */
export class TcpProxy {
  readonly stats: ProxyStats = { connections: 0, resets: 0, stalls: 0, truncations: 0, bytesForwarded: 0, failovers: 0, byTarget: new Map() };
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private targetPorts: number[];
  /** The round-robin cursor: the target the next connection tries first. */
  private nextTarget = 0;
  private offline = false;
  private chaos: (ChaosOptions & { random: () => number }) | null = null;

  private constructor(targetPorts: readonly number[], private readonly targetHost: string) {
    this.targetPorts = TcpProxy.checkTargets(targetPorts);
    this.server = net.createServer((client) => this.handle(client));
  }

  /**
   * Starts a proxy to `targetHost:targetPort` on a free loopback port; with several ports, each
   * new connection goes to the next one in turn.
   */
  static async start(targetPorts: number | readonly number[], targetHost = "127.0.0.1"): Promise<TcpProxy> {
    const proxy = new TcpProxy(typeof targetPorts === "number" ? [targetPorts] : targetPorts, targetHost);
    await new Promise<void>((resolve) => proxy.server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  private static checkTargets(ports: readonly number[]): number[] {
    if (ports.length === 0) throw new Error("TcpProxy: at least one target port is needed");
    return [...ports];
  }

  /** The port clients connect to. */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The proxy's base URL. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The target ports new connections are spread over. */
  get targets(): readonly number[] {
    return this.targetPorts;
  }

  /** Points new connections at another target port (a restarted server), the only one. */
  retarget(port: number): void {
    this.setTargets([port]);
  }

  /** Spreads new connections over `ports` from now on (open connections keep their target). */
  setTargets(ports: readonly number[]): void {
    this.targetPorts = TcpProxy.checkTargets(ports);
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
    this.sockets.add(client);
    // Hold the client's bytes until a target accepts: a refused attempt must neither see nor lose
    // them, so the request can go whole to the next target.
    client.pause();
    let clientGone = false;
    const onEarlyClose = (): void => {
      clientGone = true;
      this.sockets.delete(client);
    };
    client.once("close", onEarlyClose);
    // A reset from the client while no target is connected yet: "close" follows and cleans up.
    const onEarlyError = (): void => {};
    client.on("error", onEarlyError);
    const ports = this.targetPorts;
    const first = this.nextTarget++ % ports.length;
    const order = [...ports.slice(first), ...ports.slice(0, first)];
    const tryTarget = (index: number): void => {
      const port = order[index];
      if (clientGone) return;
      if (port === undefined) {
        // Every target refused: what the client sees when a lone server is down.
        client.destroy();
        return;
      }
      const upstream = net.connect(port, this.targetHost);
      this.sockets.add(upstream);
      const onRefused = (): void => {
        this.sockets.delete(upstream);
        if (index + 1 < order.length) this.stats.failovers++;
        tryTarget(index + 1);
      };
      upstream.once("error", onRefused);
      upstream.once("connect", () => {
        upstream.off("error", onRefused);
        client.off("close", onEarlyClose);
        client.off("error", onEarlyError);
        if (clientGone) {
          upstream.destroy();
          this.sockets.delete(upstream);
          return;
        }
        this.stats.byTarget.set(port, (this.stats.byTarget.get(port) ?? 0) + 1);
        this.forward(client, upstream);
        client.resume();
      });
    };
    tryTarget(0);
  }

  /** Relays both ways between a client and the target that accepted it, with chaos if on. */
  private forward(client: net.Socket, upstream: net.Socket): void {
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
    const relay = (to: net.Socket) => (chunk: Buffer) => {
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
    client.on("data", relay(upstream));
    upstream.on("data", relay(client));
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
