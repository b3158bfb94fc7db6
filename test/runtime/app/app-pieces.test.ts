/**
 * The app layer's small pieces: reading a JWT's lifetime, the users file (atomic, and a corrupt
 * one costs a login, not a crash), credentials' wire shape, and the default data directory.
 */
import { afterEach, describe, expect, test } from "@jest/globals";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
// App reads the installed platform (transport, user store).
import "../../support/install-node-platform.js";
import { App } from "../../../runtime/app/app.js";
import { InsecureConnectionError } from "../../../runtime/app/auth-error.js";
import { isLoopbackHost } from "../../../runtime/app/is-loopback-host.js";
import { Credentials } from "../../../runtime/app/credentials.js";
import { decodeJwtExpiry } from "../../../runtime/app/decode-jwt-expiry.js";
import { readUserFile, writeUserFile } from "../../../runtime/node/user-file.js";

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

  test("reading or writing removes the temporary copies crashed writers left (a dead pid after a few seconds, or older than a minute)", async () => {
    const dir = tempDir();
    const file = path.join(dir, "users.json");
    // A process that has exited: its pid is free, nothing of it is mid-write.
    const deadPid = spawnSync(process.execPath, ["-e", ""]).pid!;
    // A live second process of the same app, holding a temporary copy as if mid-write.
    const other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
    try {
      const otherPid = other.pid!;
      const dead = { current: `${file}.${deadPid}.0a1b2c3d4e5f.tmp`, oldName: `${file}.${deadPid}.tmp` };
      // A pid not running here, just written: maybe another container's writer on a shared volume.
      const fresh = { elsewhere: `${file}.${deadPid}.1a2b3c4d5e6f.tmp`, live: `${file}.${otherPid}.0a1b2c3d4e5f.tmp`, mine: `${file}.${process.pid}.0a1b2c3d4e5f.tmp` };
      const old = { live: `${file}.${otherPid}.ffffffffffff.tmp`, mine: `${file}.${process.pid}.tmp` };
      const unrelated = [`${file}.bak`, path.join(dir, "other.json.1.tmp"), `${file}.${deadPid}.notes`];
      const plant = (paths: string[], ageMs: number) => {
        for (const temp of paths) {
          fs.writeFileSync(temp, '{"users":[{"refreshToken":"secret"}]}', { mode: 0o600 });
          const when = (Date.now() - ageMs) / 1000;
          fs.utimesSync(temp, when, when);
        }
      };
      const left = () => fs.readdirSync(dir).map((name) => path.join(dir, name)).sort();
      for (const step of ["read", "write"] as const) {
        plant([...Object.values(fresh), ...unrelated], 0);
        plant(Object.values(dead), 10_000);
        plant(Object.values(old), 2 * 60_000);
        if (step === "read") readUserFile(dir);
        else writeUserFile(dir, { currentUserId: null, users: [] });
        const expected = [...Object.values(fresh), ...unrelated, ...(step === "write" ? [file] : [])];
        expect([step, left()]).toEqual([step, expected.sort()]);
      }
    } finally {
      other.kill("SIGKILL");
    }
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
    // *.localhost and localhost. may be answered by DNS (glibc sends both there), so may be anywhere.
    for (const baseUrl of ["http://ingest.example.com", "http://10.0.0.5:8080", "http://[2001:db8::1]:8080", "HTTP://Ingest.Example.com/", "http://api.localhost:8080", "http://localhost.:8080"]) {
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
    const ok = ["https://ingest.example.com", "http://127.0.0.1:8080", "http://127.8.9.10", "http://localhost:1", "http://[::1]:8080", "http://[::ffff:127.0.0.1]:8080"];
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
    for (const url of ["http://localhost", "http://LocalHost", "http://127.0.0.1", "http://127.255.0.9", "http://0x7f.1", "http://[::1]", "http://[0:0:0:0:0:0:0:1]", "http://[::ffff:127.0.0.1]"]) {
      expect([url, isLoopbackHost(host(url))]).toEqual([url, true]);
    }
    // Names a resolver may send to DNS are not loopback, whatever they look like.
    for (const url of ["http://a.localhost", "http://LocalHost.", "http://localhost.example.com", "http://128.0.0.1", "http://10.0.0.1", "http://[::2]", "http://[::ffff:10.0.0.1]", "http://[::127.0.0.1]", "http://0.0.0.0", "http://[::]", "http://127.example"]) {
      expect([url, isLoopbackHost(host(url))]).toEqual([url, false]);
    }
    // Address literals as written by hand or by server.address() (the server's plain-HTTP warning).
    for (const address of ["::1", "0:0:0:0:0:0:0:1", "0000::0001", "::ffff:127.0.0.1", "0:0:0:0:0:ffff:7f00:1", "127.0.0.1", "[::1]"]) {
      expect([address, isLoopbackHost(address)]).toEqual([address, true]);
    }
    for (const address of ["::", "0.0.0.0", "::ffff:192.168.1.5", "fe80::1", "192.168.1.5"]) {
      expect([address, isLoopbackHost(address)]).toEqual([address, false]);
    }
  });

  test("parses address literals as node:net does (it no longer uses node:net, so it runs in browsers)", () => {
    const loopbackV4 = new net.BlockList();
    loopbackV4.addSubnet("127.0.0.0", 8, "ipv4");
    const loopbackV6 = new net.BlockList();
    loopbackV6.addAddress("::1", "ipv6");
    loopbackV6.addSubnet("::ffff:127.0.0.0", 104, "ipv6");
    const byNodeNet = (address: string): boolean =>
      net.isIPv4(address) ? loopbackV4.check(address, "ipv4") : net.isIPv6(address) ? loopbackV6.check(address, "ipv6") : false;
    const spellings = [
      "127.0.0.1", "127.255.255.254", "127.0.0.01", "127.0.0", "127.0.0.1.1", "0127.0.0.1", "127.0.0.256", "126.255.255.255", "128.0.0.0",
      "::1", "::0:1", "0::1", "0:0:0:0:0:0:0:1", "0000:0000:0000:0000:0000:0000:0000:0001", "::01", "::00001", "1::", "::", ":::1", "::1::",
      "::ffff:127.0.0.1", "::FFFF:127.1.2.3", "::ffff:7f00:1", "::ffff:7fff:ffff", "::ffff:8000:1", "0:0:0:0:0:ffff:127.0.0.1",
      "::ffff:0:127.0.0.1", "::127.0.0.1", "::ffff:127.0.0", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8",
      "fe80::1", "::g", "12345::1", "::1%lo", "::1%", "localhost", "",
    ];
    for (const address of spellings) {
      const expected = address === "localhost" || byNodeNet(address.toLowerCase());
      expect([address, isLoopbackHost(address)]).toEqual([address, expected]);
    }
  });

  test("what a listening server reports as its address is loopback exactly when it listens on loopback", async () => {
    const listenedOn = async (host: string): Promise<string | null> => {
      const server = net.createServer();
      try {
        await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, host, resolve));
      } catch {
        return null; // No IPv6 on this machine: nothing to check for that host.
      }
      const address = (server.address() as net.AddressInfo).address;
      await new Promise((resolve) => server.close(resolve));
      return address;
    };
    for (const [host, loopback] of [["127.0.0.1", true], ["::1", true], ["::ffff:127.0.0.1", true], ["0.0.0.0", false], ["::", false]] as const) {
      const address = await listenedOn(host);
      if (address !== null) expect([host, address, isLoopbackHost(address)]).toEqual([host, address, loopback]);
    }
  });

  test("an unreachable server is a NetworkError at login", async () => {
    const app = new App({ id: "x", baseUrl: "http://127.0.0.1:1", baseFilePath: tempDir() });
    await expect(app.logIn(Credentials.anonymous())).rejects.toMatchObject({ name: "NetworkError" });
  });
});
