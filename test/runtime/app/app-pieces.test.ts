/**
 * The app layer's small pieces: reading a JWT's lifetime, the users file (atomic, and a corrupt
 * one costs a login, not a crash), credentials' wire shape, and the default data directory.
 */
import { afterEach, describe, expect, test } from "@jest/globals";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { App } from "../../../runtime/app/app.js";
import { InsecureConnectionError } from "../../../runtime/app/auth-error.js";
import { isLoopbackHost } from "../../../runtime/app/is-loopback-host.js";
import { Credentials } from "../../../runtime/app/credentials.js";
import { decodeJwtExpiry } from "../../../runtime/app/decode-jwt-expiry.js";
import { readUserFile, writeUserFile } from "../../../runtime/app/user-file.js";

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-app-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function jwt(claims: object): string {
  return `e30.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.signature`;
}

describe("decodeJwtExpiry", () => {
  test("reads exp and iat in ms, without verifying", () => {
    expect(decodeJwtExpiry(jwt({ exp: 1_800_000_000, iat: 1_799_998_200 }))).toEqual({ expiresAt: 1_800_000_000_000, issuedAt: 1_799_998_200_000 });
    expect(decodeJwtExpiry(jwt({ exp: 1_800_000_000 }))).toEqual({ expiresAt: 1_800_000_000_000, issuedAt: null });
  });

  test("is null for a token it cannot read", () => {
    expect(decodeJwtExpiry("not-a-jwt")).toBeNull();
    expect(decodeJwtExpiry("a.%%%.c")).toBeNull();
    expect(decodeJwtExpiry(jwt({ sub: "x" }))).toBeNull();
  });
});

describe("users file", () => {
  test("round-trips and leaves no temporary file behind", () => {
    const dir = tempDir();
    const record = { id: "u1", deviceId: "d1", providerType: "anon-user" as const, accessToken: "a", refreshToken: "r" };
    writeUserFile(dir, { currentUserId: "u1", users: [record] });
    expect(readUserFile(dir)).toEqual({ currentUserId: "u1", users: [record] });
    expect(fs.readdirSync(dir)).toEqual(["users.json"]);
  });

  test("users.json is 0600 whatever the umask, replacing a 0666 file and a stale temporary copy", () => {
    if (process.platform === "win32") return; // POSIX modes only
    const dir = tempDir();
    const file = path.join(dir, "users.json");
    const record = { id: "u1", deviceId: "d1", providerType: "anon-user" as const, accessToken: "a", refreshToken: "r" };
    // A world-writable file from elsewhere, and a temporary copy a crashed run left at this pid's name.
    for (const existing of [file, `${file}.${process.pid}.tmp`]) {
      fs.writeFileSync(existing, "{}");
      fs.chmodSync(existing, 0o666);
    }
    const previous = process.umask(0);
    try {
      writeUserFile(dir, { currentUserId: "u1", users: [record] });
    } finally {
      process.umask(previous);
    }
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(readUserFile(dir).users).toEqual([record]);
  });

  test("a failed write leaves no temporary file behind", () => {
    const dir = tempDir();
    // users.json is a non-empty directory: the rename fails after the temporary file is written.
    fs.mkdirSync(path.join(dir, "users.json"));
    fs.writeFileSync(path.join(dir, "users.json", "x"), "");
    expect(() => writeUserFile(dir, { currentUserId: null, users: [] })).toThrow();
    expect(fs.readdirSync(dir)).toEqual(["users.json"]);
  });

  test("a missing or corrupt file is no users", () => {
    const dir = tempDir();
    expect(readUserFile(dir)).toEqual({ currentUserId: null, users: [] });
    fs.writeFileSync(path.join(dir, "users.json"), "{ torn");
    expect(readUserFile(dir)).toEqual({ currentUserId: null, users: [] });
    const app = new App({ id: "x", baseUrl: "http://127.0.0.1:1", baseFilePath: dir });
    expect(app.currentUser).toBeNull();
  });
});

describe("App and Credentials", () => {
  test("credentials carry the App Services login body", () => {
    expect(Credentials.emailPassword("a@b.c", "pw")).toMatchObject({ providerType: "local-userpass", payload: { username: "a@b.c", password: "pw" } });
    expect(Credentials.apiKey("k")).toMatchObject({ providerType: "api-key", payload: { key: "k" } });
    expect(Credentials.jwt("t")).toMatchObject({ providerType: "custom-token", payload: { token: "t" } });
    expect(Credentials.anonymous()).toMatchObject({ providerType: "anon-user", payload: {} });
  });

  test("defaults its data directory to ./asymgen-data/app-<id>/ and trims the base URL", () => {
    const app = new App({ id: "weather", baseUrl: "http://127.0.0.1:8080/" });
    expect(app.baseFilePath).toBe(path.resolve("asymgen-data", "app-weather"));
    expect(app.baseUrl).toBe("http://127.0.0.1:8080");
  });

  test("refuses http:// to another machine at construction, naming the URL and allowInsecureHttp", () => {
    for (const baseUrl of ["http://ingest.example.com", "http://10.0.0.5:8080", "http://[2001:db8::1]:8080", "HTTP://Ingest.Example.com/"]) {
      let error: unknown;
      try {
        new App({ id: "x", baseUrl, baseFilePath: tempDir() });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(InsecureConnectionError);
      expect(error).toMatchObject({ baseUrl, message: expect.stringContaining("allowInsecureHttp: true") });
      expect((error as Error).message).toContain(baseUrl);
    }
  });

  test("allows https:// anywhere, http:// to this machine, and http:// elsewhere with allowInsecureHttp", () => {
    const ok = ["https://ingest.example.com", "http://127.0.0.1:8080", "http://127.8.9.10", "http://localhost:1", "http://api.localhost", "http://[::1]:8080"];
    for (const baseUrl of ok) expect(new App({ id: "x", baseUrl, baseFilePath: tempDir() }).baseUrl).toBe(baseUrl);
    const lab = new App({ id: "x", baseUrl: "http://10.0.0.5:8080/", baseFilePath: tempDir(), allowInsecureHttp: true });
    expect(lab.baseUrl).toBe("http://10.0.0.5:8080");
  });

  test("a base URL that is not http(s) is refused with its value", () => {
    expect(() => new App({ id: "x", baseUrl: "ingest.example.com", baseFilePath: tempDir() })).toThrow(/baseUrl "ingest.example.com" is not a URL/);
    expect(() => new App({ id: "x", baseUrl: "ftp://ingest.example.com", baseFilePath: tempDir() })).toThrow(/must start with https:\/\//);
  });

  test("an unusable proxy variable for the base URL is refused at construction", () => {
    const saved = process.env["HTTPS_PROXY"];
    process.env["HTTPS_PROXY"] = "socks5://proxy.corp:1080";
    try {
      expect(() => new App({ id: "x", baseUrl: "https://ingest.example.com", baseFilePath: tempDir() })).toThrow('HTTPS_PROXY="socks5://proxy.corp:1080": only http:// proxies are supported');
    } finally {
      if (saved === undefined) delete process.env["HTTPS_PROXY"];
      else process.env["HTTPS_PROXY"] = saved;
    }
  });

  test("loopback hosts are localhost, 127.0.0.0/8 and ::1 (also IPv4-mapped), nothing else", () => {
    const host = (url: string) => new URL(url).hostname;
    for (const url of ["http://localhost", "http://LocalHost.", "http://a.localhost", "http://127.0.0.1", "http://127.255.0.9", "http://[::1]", "http://[0:0:0:0:0:0:0:1]", "http://[::ffff:127.0.0.1]"]) {
      expect([url, isLoopbackHost(host(url))]).toEqual([url, true]);
    }
    for (const url of ["http://localhost.example.com", "http://128.0.0.1", "http://10.0.0.1", "http://[::2]", "http://[::ffff:10.0.0.1]", "http://0.0.0.0", "http://127.example"]) {
      expect([url, isLoopbackHost(host(url))]).toEqual([url, false]);
    }
  });

  test("an unreachable server is a NetworkError at login", async () => {
    const app = new App({ id: "x", baseUrl: "http://127.0.0.1:1", baseFilePath: tempDir() });
    await expect(app.logIn(Credentials.anonymous())).rejects.toMatchObject({ name: "NetworkError" });
  });
});
