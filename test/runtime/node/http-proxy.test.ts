/**
 * Proxies from the environment, through a real proxy on loopback: an http:// server reached
 * with the absolute-URI form, an https:// server through a CONNECT tunnel with TLS checked end
 * to end (a self-signed certificate made by openssl), proxy credentials (never in an error
 * message), and NO_PROXY. The server's name, `ingest.test`, resolves only inside the proxy: a
 * request that reaches the server went through it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "@jest/globals";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
// App reads the installed platform (transport, user store).
import "../../support/install-node-platform.js";
import { App } from "../../../runtime/app/app.js";
import { NetworkError } from "../../../runtime/app/auth-error.js";
import { sendNodeHttpRequest as sendHttpRequest } from "../../../runtime/node/node-http-transport.js";
import { getProxyForUrl } from "../../../runtime/node/proxy-from-env.js";
import { HttpForwardProxy } from "../../support/http-forward-proxy.js";

const PROXY_VARIABLES = ["https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY"];
const savedEnv = Object.fromEntries(PROXY_VARIABLES.map((name) => [name, process.env[name]]));

/** Sets the proxy variables for one test (the others unset). */
function setProxyEnv(values: Record<string, string>): void {
  for (const name of PROXY_VARIABLES) delete process.env[name];
  Object.assign(process.env, values);
}

afterEach(() => {
  for (const name of PROXY_VARIABLES) {
    if (savedEnv[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnv[name];
  }
});

describe("getProxyForUrl (the environment as curl reads it)", () => {
  const proxyFor = (target: string, env: Record<string, string>) => getProxyForUrl(new URL(target), env)?.url.href ?? null;

  test("https targets use https_proxy/HTTPS_PROXY, http targets http_proxy only; lowercase wins; empty is unset", () => {
    expect(proxyFor("https://ingest.example.com", {})).toBeNull();
    expect(proxyFor("https://ingest.example.com", { HTTPS_PROXY: "http://p:3128" })).toBe("http://p:3128/");
    expect(proxyFor("http://ingest.example.com", { HTTPS_PROXY: "http://p:3128" })).toBeNull();
    expect(proxyFor("http://ingest.example.com", { http_proxy: "http://p:3128" })).toBe("http://p:3128/");
    expect(proxyFor("https://ingest.example.com", { https_proxy: "http://lower:1", HTTPS_PROXY: "http://upper:2" })).toBe("http://lower:1/");
    expect(proxyFor("https://ingest.example.com", { https_proxy: "", HTTPS_PROXY: "http://upper:2" })).toBe("http://upper:2/");
  });

  test("uppercase HTTP_PROXY is ignored, as curl ignores it (httpoxy: CGI puts a request's Proxy header there)", () => {
    expect(proxyFor("http://ingest.example.com", { HTTP_PROXY: "http://attacker.example:80" })).toBeNull();
    expect(proxyFor("http://ingest.example.com", { HTTP_PROXY: "http://attacker.example:80", http_proxy: "http://p:3128" })).toBe("http://p:3128/");
  });

  test("a bare host:port is an http:// proxy; without a port, curl's 1080", () => {
    expect(proxyFor("https://a.example", { HTTPS_PROXY: "proxy.corp:8080" })).toBe("http://proxy.corp:8080/");
    expect(proxyFor("https://a.example", { HTTPS_PROXY: "http://proxy.corp" })).toBe("http://proxy.corp:1080/");
  });

  test("an unusable proxy variable is an error naming the variable and its value", () => {
    expect(() => proxyFor("https://a.example", { HTTPS_PROXY: "socks5://proxy:1080" })).toThrow('HTTPS_PROXY="socks5://proxy:1080": only http:// proxies are supported');
    expect(() => proxyFor("http://a.example", { http_proxy: "http://[oops" })).toThrow('http_proxy="http://[oops" is not a proxy URL');
  });

  /** The message `getProxyForUrl` throws for `env`, or "(no error)". */
  const errorFor = (target: string, env: Record<string, string>): string => {
    try {
      getProxyForUrl(new URL(target), env);
      return "(no error)";
    } catch (error) {
      return (error as Error).message;
    }
  };

  test.each([
    ["a SOCKS proxy", "socks5://alice:s3cr3t@proxy:1080", 'HTTPS_PROXY="socks5://***@proxy:1080": only http:// proxies are supported'],
    ["a bad port", "http://alice:s3cr3t@proxy:99999", 'HTTPS_PROXY="http://***@proxy:99999" is not a proxy URL'],
    ["a bare host with a bad port", "alice:s3cr3t@proxy:x", 'HTTPS_PROXY="***@proxy:x" is not a proxy URL'],
    ["an unescaped @ and / in the password", "http://alice:s3/cr@3t@proxy:99999", 'HTTPS_PROXY="http://***@proxy:99999" is not a proxy URL'],
    ["a malformed %-escape", "http://alice:s3cr3t%zz@proxy:3128", 'HTTPS_PROXY="http://***@proxy:3128": the proxy user name or password has a malformed %-escape'],
    ["a malformed %-escape in the user name", "http://al%E0%A4ice:s3cr3t@proxy:3128", "malformed %-escape"],
  ])("the error for %s names the variable and hides the credentials", (_case, value, expected) => {
    const message = errorFor("https://a.example", { HTTPS_PROXY: value });
    expect(message).toContain(expected);
    expect(message).not.toMatch(/alice|al%E0|s3cr3t|s3\/cr|3t@/);
  });

  test("a malformed %-escape in the proxy password is refused at new App, not as a URIError on every request", () => {
    setProxyEnv({ HTTPS_PROXY: "http://alice:100%zz@proxy.corp:3128" });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-proxy-app-"));
    try {
      let error: unknown;
      try {
        new App({ id: "x", baseUrl: "https://ingest.example.com", baseFilePath: dir });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).name).not.toBe("URIError");
      expect((error as Error).message).toBe(
        'HTTPS_PROXY="http://***@proxy.corp:3128": the proxy user name or password has a malformed %-escape (write a literal "%" as %25)',
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("this machine is never proxied; a *.localhost name is not this machine (DNS may answer it)", () => {
    const env = { HTTPS_PROXY: "http://p:3128", http_proxy: "http://p:3128" };
    for (const target of ["https://localhost:8443", "http://127.0.0.1:8080", "http://127.1.2.3", "https://[::1]:8443", "https://[::ffff:127.0.0.1]"]) {
      expect([target, proxyFor(target, env)]).toEqual([target, null]);
    }
    expect(proxyFor("http://api.localhost", env)).toBe("http://p:3128/");
  });

  test.each([
    ["*", "https://anything.example", true],
    ["example.com", "https://example.com", true],
    ["example.com", "https://api.example.com", true],
    ["example.com", "https://badexample.com", false],
    [".example.com", "https://example.com", true],
    [".example.com", "https://deep.api.example.com", true],
    ["*.example.com", "https://api.example.com", true],
    ["Example.COM.", "https://API.example.com.", true],
    ["other.org, example.com", "https://api.example.com", true],
    ["other.org example.com", "https://api.example.com", true],
    ["example.com:8443", "https://example.com:8443", true],
    ["example.com:8443", "https://example.com", false],
    ["example.com:443", "https://example.com", true],
    ["10.0.0.0/8", "https://10.1.2.3", true],
    ["10.0.0.0/8", "https://11.1.2.3", false],
    ["10.1.2.3", "https://10.1.2.3:9000", true],
    ["10.0.0.0/8", "https://ten.example", false],
    ["fd00::/8", "https://[fd12::5]", true],
    ["fd00::5", "https://[fd00::5]", true],
    ["[fd00::5]:443", "https://[fd00::5]", true],
    ["[fd00::5]:8443", "https://[fd00::5]", false],
    ["10.0.0.0/99", "https://10.1.2.3", false],
    ["", "https://example.com", false],
  ])("NO_PROXY=%j for %s bypasses the proxy: %s", (noProxy, target, bypassed) => {
    const direct = proxyFor(target, { HTTPS_PROXY: "http://p:3128", NO_PROXY: noProxy }) === null;
    expect(direct).toBe(bypassed);
    expect(proxyFor(target, { HTTPS_PROXY: "http://p:3128", no_proxy: noProxy }) === null).toBe(bypassed);
  });
});

describe("requests through a real proxy", () => {
  let origin: http.Server;
  let originPort: number;
  const originSaw: { url: string; host: string }[] = [];
  let proxy: HttpForwardProxy;
  let proxyUrl: string;

  beforeAll(async () => {
    origin = http.createServer((req, res) => {
      originSaw.push({ url: req.url ?? "", host: req.headers.host ?? "" });
      res.writeHead(200, { "content-type": "text/plain" }).end(`plain ${req.method} ${req.url}`);
    });
    await new Promise<void>((resolve) => origin.listen(0, "127.0.0.1", resolve));
    originPort = (origin.address() as AddressInfo).port;
    proxy = new HttpForwardProxy({ hosts: { "ingest.test": "127.0.0.1" } });
    proxyUrl = await proxy.start();
  });

  afterAll(async () => {
    await proxy.close();
    origin.closeAllConnections();
    await new Promise((resolve) => origin.close(resolve));
  });

  test("an http:// server is reached through http_proxy with the absolute-URI form", async () => {
    setProxyEnv({ http_proxy: proxyUrl });
    const before = proxy.requests.length;
    const target = `http://ingest.test:${originPort}/hello?x=1`;
    const response = await sendHttpRequest({ method: "GET", url: target, timeoutMs: 5000 });
    expect(new TextDecoder().decode(response.body)).toBe("plain GET /hello?x=1");
    expect(proxy.requests.slice(before)).toEqual([{ method: "GET", target, proxyAuthorization: null }]);
    expect(originSaw.at(-1)).toEqual({ url: "/hello?x=1", host: `ingest.test:${originPort}` });
  });

  test("uppercase HTTP_PROXY (what a CGI server sets from a request's Proxy header) does not route requests", async () => {
    setProxyEnv({ HTTP_PROXY: proxyUrl });
    const before = proxy.requests.length;
    const error = await sendHttpRequest({ method: "GET", url: `http://ingest.test:${originPort}/not-proxied`, timeoutMs: 3000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(proxy.requests.length).toBe(before);
  });

  test("NO_PROXY sends the request direct: the proxy sees nothing (and ingest.test resolves only inside it)", async () => {
    setProxyEnv({ http_proxy: proxyUrl, NO_PROXY: "example.org,.test" });
    const before = proxy.requests.length;
    const error = await sendHttpRequest({ method: "GET", url: `http://ingest.test:${originPort}/direct`, timeoutMs: 3000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(proxy.requests.length).toBe(before);
  });

  test("a loopback server is reached direct even with a proxy set", async () => {
    setProxyEnv({ http_proxy: proxyUrl, HTTPS_PROXY: proxyUrl });
    const before = proxy.requests.length;
    const response = await sendHttpRequest({ method: "GET", url: `http://127.0.0.1:${originPort}/local`, timeoutMs: 5000 });
    expect(response.status).toBe(200);
    expect(proxy.requests.length).toBe(before);
  });

  test("a proxy that cannot be reached is a NetworkError that names the variable", async () => {
    const closed = new HttpForwardProxy();
    const closedUrl = await closed.start();
    await closed.close();
    setProxyEnv({ http_proxy: closedUrl });
    const error = await sendHttpRequest({ method: "GET", url: `http://ingest.test:${originPort}/`, timeoutMs: 3000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as Error).message).toMatch(/ECONNREFUSED.*\(through the proxy from http_proxy\)/);
  });
});

const haveOpenssl = spawnSync("openssl", ["version"]).status === 0;

describe.each(haveOpenssl ? ["openssl"] : [])("an https:// server through a CONNECT tunnel (certificate by %s)", () => {
  let dir: string;
  let origin: https.Server;
  let originPort: number;
  const originSaw: string[] = [];
  let proxy: HttpForwardProxy;
  let proxyPort: number;
  let savedCa: https.AgentOptions["ca"];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-proxy-tls-"));
    const made = spawnSync(
      "openssl",
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=ingest.test",
        "-addext", "subjectAltName=DNS:ingest.test", "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem")],
      { encoding: "utf8" },
    );
    if (made.status !== 0) throw new Error(`openssl could not make a test certificate: ${made.stderr}`);
    const cert = fs.readFileSync(path.join(dir, "cert.pem"));
    origin = https.createServer({ cert, key: fs.readFileSync(path.join(dir, "key.pem")) }, (req, res) => {
      originSaw.push(`${req.method} ${req.url} host=${req.headers.host} auth=${req.headers.authorization ?? ""}`);
      res.writeHead(200).end("secret answer");
    });
    await new Promise<void>((resolve) => origin.listen(0, "127.0.0.1", resolve));
    originPort = (origin.address() as AddressInfo).port;
    // Trust the test certificate the way an app trusts a private CA: on the global https agent
    // (the tunnel agent takes its TLS options); NODE_EXTRA_CA_CERTS does the same at startup.
    savedCa = https.globalAgent.options.ca;
    https.globalAgent.options.ca = cert;
    proxy = new HttpForwardProxy({ hosts: { "ingest.test": "127.0.0.1" }, credentials: "grace:p@ss word" });
    proxyPort = Number(new URL(await proxy.start()).port);
  });

  afterAll(async () => {
    // An own `ca: undefined` would still override every later request's own `ca` (the agent's
    // options win over a request's): restore the property's absence, not just its value.
    if (savedCa === undefined) delete https.globalAgent.options.ca;
    else https.globalAgent.options.ca = savedCa;
    await proxy?.close();
    origin?.closeAllConnections();
    if (origin !== undefined) await new Promise((resolve) => origin.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("TLS runs end to end inside the tunnel, with the proxy's credentials, and the tunnel is kept alive", async () => {
    setProxyEnv({ HTTPS_PROXY: `http://grace:p%40ss%20word@127.0.0.1:${proxyPort}` });
    const before = proxy.requests.length;
    for (const n of [1, 2, 3]) {
      const response = await sendHttpRequest({ method: "POST", url: `https://ingest.test:${originPort}/ingest/${n}`, headers: { authorization: "Bearer t" }, body: "{}", timeoutMs: 5000 });
      expect(new TextDecoder().decode(response.body)).toBe("secret answer");
    }
    // One CONNECT for three requests; the proxy saw the authority only, never the path or the token.
    expect(proxy.requests.slice(before)).toEqual([
      { method: "CONNECT", target: `ingest.test:${originPort}`, proxyAuthorization: `Basic ${Buffer.from("grace:p@ss word").toString("base64")}` },
    ]);
    expect(originSaw.slice(-3)).toEqual([1, 2, 3].map((n) => `POST /ingest/${n} host=ingest.test:${originPort} auth=Bearer t`));
  });

  test("a proxy refusing the credentials is a NetworkError with its status, and the password is not in it", async () => {
    setProxyEnv({ HTTPS_PROXY: `http://grace:wrong-secret@127.0.0.1:${proxyPort}` });
    const error = await sendHttpRequest({ method: "GET", url: `https://ingest.test:${originPort}/`, timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as Error).message).toContain(`the proxy http://127.0.0.1:${proxyPort} refused CONNECT ingest.test:${originPort}: HTTP 407`);
    expect((error as Error).message).not.toContain("wrong-secret");
  });

  test("a certificate that does not match the name is refused through the tunnel too", async () => {
    // The proxy maps another name to the same server: its certificate names ingest.test only.
    const aliasing = new HttpForwardProxy({ hosts: { "other.test": "127.0.0.1" } });
    setProxyEnv({ HTTPS_PROXY: await aliasing.start() });
    try {
      const error = await sendHttpRequest({ method: "GET", url: `https://other.test:${originPort}/`, timeoutMs: 5000 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NetworkError);
      // The name check itself, not any failure: every NetworkError message quotes the URL.
      expect((error as NetworkError).cause).toMatchObject({ code: "ERR_TLS_CERT_ALTNAME_INVALID" });
      expect((error as Error).message).toContain("Host: other.test. is not in the cert's altnames: DNS:ingest.test");
      expect(aliasing.requests.map((r) => r.method)).toEqual(["CONNECT"]);
    } finally {
      await aliasing.close();
    }
  });
});
