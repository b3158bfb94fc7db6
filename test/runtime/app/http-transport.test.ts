/**
 * The HttpTransport contract, run against both transports (Node's `http.request` one and the
 * browser's `fetch` one, which Node 20 runs too) over a real server on loopback: a whole answer,
 * a deadline that covers the answer's body, a connection cut mid-answer, headers by name, and the
 * cap on an answer's size (an endless body, a huge declared length).
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { NetworkError, ResponseTooLargeError } from "../../../runtime/app/auth-error.js";
import { DEFAULT_MAX_RESPONSE_BYTES, type HttpTransport } from "../../../runtime/app/http-transport.js";
import { fetchTransport } from "../../../runtime/browser/fetch-transport.js";
import { sendNodeHttpRequest } from "../../../runtime/node/node-http-transport.js";

let server: http.Server;
let endlessBytesSent = 0;
let baseUrl: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      if (req.url === "/echo") {
        res.writeHead(201, { "Content-Type": "application/bson", "Retry-After": "7", "X-Length": String(body.length) });
        res.end(body);
      } else if (req.url === "/stall-body") {
        // Headers and part of the body, then nothing: only the deadline can end the exchange.
        res.writeHead(200, { "Content-Length": "100" });
        res.write("partial");
      } else if (req.url === "/endless") {
        // A body that never ends, as fast as the client takes it.
        res.writeHead(200, { "Content-Type": "application/json" });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const pump = (): void => {
          while (!res.destroyed && res.write(chunk)) endlessBytesSent += chunk.length;
          if (!res.destroyed) res.once("drain", pump);
        };
        pump();
      } else if (req.url === "/declares-10-gib") {
        // Declares far more than the cap, sends a little, then nothing: only the declaration can end it early.
        res.writeHead(200, { "Content-Length": String(10 * 1024 ** 3) });
        res.write("{");
      } else if (req.url === "/redirect") {
        res.writeHead(302, { Location: "/echo" });
        res.end();
      } else if (req.url === "/cut-body") {
        res.writeHead(200, { "Content-Length": "100" });
        res.write("partial", () => res.socket?.destroy());
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const transports: [string, HttpTransport][] = [
  ["node:http (sendNodeHttpRequest)", sendNodeHttpRequest],
  ["fetch (fetchTransport)", fetchTransport],
];

describe.each(transports)("%s", (_name, sendHttpRequest) => {
  test("sends the body and reads the whole answer; headers are looked up by name in any case", async () => {
    const body = new Uint8Array(200_000).map((_, i) => i % 251);
    const response = await sendHttpRequest({ method: "POST", url: `${baseUrl}/echo`, body, headers: { "content-type": "application/bson" } });
    expect(response.status).toBe(201);
    expect(Buffer.from(response.body).equals(Buffer.from(body))).toBe(true);
    expect(response.headers.get("Retry-After")).toBe("7");
    expect(response.headers.get("x-length")).toBe("200000");
    expect(response.headers.get("x-missing")).toBeNull();
  });

  test("an answer whose body stalls fails at the deadline, flagged as a timeout", async () => {
    const error = await sendHttpRequest({ method: "GET", url: `${baseUrl}/stall-body`, timeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ timedOut: true, message: expect.stringContaining("timed out") });
  });

  test("a connection cut mid-answer is a network failure, not a timeout", async () => {
    const error = await sendHttpRequest({ method: "GET", url: `${baseUrl}/cut-body`, timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ timedOut: false });
  });

  test("an endless answer is cut at the cap (1 MiB by default) with a ResponseTooLargeError naming it", async () => {
    endlessBytesSent = 0;
    const started = Date.now();
    const error = await sendHttpRequest({ method: "GET", url: `${baseUrl}/endless`, timeoutMs: 20_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResponseTooLargeError);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ limitBytes: DEFAULT_MAX_RESPONSE_BYTES, timedOut: false });
    expect((error as Error).message).toContain(`the cap of ${DEFAULT_MAX_RESPONSE_BYTES} bytes (maxResponseBytes)`);
    expect(Date.now() - started).toBeLessThan(10_000);
    // The connection is dropped, not drained: the server stops soon after the cap (socket buffers aside).
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(endlessBytesSent).toBeLessThan(DEFAULT_MAX_RESPONSE_BYTES + 16 * 1024 * 1024);
  });

  test("a request's own cap applies both ways: an answer under it is read whole, one over it fails", async () => {
    const body = new Uint8Array(200_000);
    const whole = await sendHttpRequest({ method: "POST", url: `${baseUrl}/echo`, body, maxResponseBytes: 200_000 });
    expect(whole.body.length).toBe(200_000);
    const error = await sendHttpRequest({ method: "POST", url: `${baseUrl}/echo`, body, maxResponseBytes: 199_999 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "ResponseTooLargeError", limitBytes: 199_999, message: expect.stringContaining("exceeds the cap of 199999 bytes") });
  });

  test("a declared Content-Length over the cap fails at once, before any body arrives", async () => {
    const started = Date.now();
    const error = await sendHttpRequest({ method: "GET", url: `${baseUrl}/declares-10-gib`, timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResponseTooLargeError);
    expect((error as Error).message).toContain(`is ${10 * 1024 ** 3} bytes (Content-Length), over the cap`);
    // Well before the 10 s deadline the stalled body would otherwise run into (5 s, not 2: room
    // for a loaded machine, still half the deadline).
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test("a refused connection is a network failure naming the cause", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/`;
    await new Promise((resolve) => closed.close(resolve));
    const error = await sendHttpRequest({ method: "GET", url }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ timedOut: false, message: expect.stringContaining("ECONNREFUSED") });
  });
});

describe("fetchTransport only", () => {
  test("a redirect is not followed: it fails as a network error (the batch and its token go only where the app pointed)", async () => {
    const error = await fetchTransport({ method: "POST", url: `${baseUrl}/redirect`, body: "x", timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ timedOut: false });
  });

  test("a body that is a view into a larger buffer is sent as exactly its bytes", async () => {
    const whole = new Uint8Array(1000).map((_, i) => i % 256);
    const view = whole.subarray(100, 300);
    const response = await fetchTransport({ method: "POST", url: `${baseUrl}/echo`, body: view });
    expect(Buffer.from(response.body).equals(Buffer.from(view))).toBe(true);
  });
});
