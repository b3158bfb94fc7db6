/**
 * The client's one HTTP function over a real server on loopback: a whole answer, a deadline that
 * covers the answer's body, a connection cut mid-answer, headers by name.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { NetworkError } from "../../../runtime/app/auth-error.js";
import { sendHttpRequest } from "../../../runtime/app/http-request.js";

let server: http.Server;
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

describe("sendHttpRequest", () => {
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
