/**
 * The demo's simulated network: one TCP relay per device in front of the server, which the demo
 * unplugs and plugs back to take a device offline (connections reset, new ones refused) exactly
 * as a real network drop looks to the client.
 */
import * as net from "node:net";
import type { AddressInfo } from "node:net";

/** A pluggable cable between one device and the server. */
export class NetworkLink {
  private readonly sockets = new Set<net.Socket>();
  private plugged = true;

  private constructor(
    private readonly server: net.Server,
    private readonly targetPort: number,
  ) {}

  /** Opens a link on a free loopback port that relays to `targetPort`. */
  static async open(targetPort: number): Promise<NetworkLink> {
    let link: NetworkLink | undefined;
    const server = net.createServer((socket) => link?.relay(socket));
    link = new NetworkLink(server, targetPort);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return link;
  }

  /** The URL the device uses as its server. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** True while the device is online. */
  get isPlugged(): boolean {
    return this.plugged;
  }

  /** Takes the device offline: open connections are reset, new ones too. */
  unplug(): void {
    this.plugged = false;
    for (const socket of this.sockets) socket.resetAndDestroy();
    this.sockets.clear();
  }

  /** Brings the device back online. */
  plug(): void {
    this.plugged = true;
  }

  /** Closes the link. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: net.Socket): void {
    if (!this.plugged) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(this.targetPort, "127.0.0.1");
    this.sockets.add(client);
    this.sockets.add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
  }
}
