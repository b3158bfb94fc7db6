/**
 * `App` over a user store that reads and writes asynchronously (the browser's IndexedDB store,
 * runtime/browser/indexeddb-user-store.ts): the users are unknown until the read settles
 * (`currentUser` says so; `App.open` waits), and `logIn`/`logOut` resolve only once the store's
 * write has. Here the store is an in-memory one whose every read and write the test releases by
 * hand, with a transport that answers the auth routes the way `asymgen serve` does.
 */
import { afterEach, beforeEach, describe, expect, test } from "@jest/globals";
import { App } from "../../../runtime/app/app.js";
import { Credentials } from "../../../runtime/app/credentials.js";
import type { HttpRequest, HttpResponse } from "../../../runtime/app/http-transport.js";
import type { PersistedUsers } from "../../../runtime/app/user-record.js";
import type { UserStore } from "../../../runtime/app/user-store.js";
import { nodePlatform } from "../../../runtime/node/node-platform.js";
import { installPlatform } from "../../../runtime/platform/platform.js";

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

function defer<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A store whose reads and writes wait until the test settles them, in order. */
class HeldStore implements UserStore {
  readonly location = "held:test";
  readonly reads: Deferred<PersistedUsers>[] = [];
  readonly writes: { users: PersistedUsers; done: Deferred<void> }[] = [];
  read(): Promise<PersistedUsers> {
    const read = defer<PersistedUsers>();
    this.reads.push(read);
    return read.promise;
  }
  write(users: PersistedUsers): Promise<void> {
    const done = defer<void>();
    this.writes.push({ users, done });
    return done.promise;
  }
}

const kept = { id: "kept-user", deviceId: "d0", providerType: "anon-user" as const, accessToken: "a0", refreshToken: "r0" };
let store: HeldStore;
let requests: HttpRequest[];
let logins: number;

function answer(status: number, body: object | null): HttpResponse {
  return { status, headers: { get: () => null }, body: new TextEncoder().encode(body === null ? "" : JSON.stringify(body)) };
}

beforeEach(() => {
  store = new HeldStore();
  requests = [];
  logins = 0;
  installPlatform({
    ...nodePlatform,
    transport: async (request) => {
      requests.push(request);
      if (request.method === "DELETE") return answer(204, null);
      logins += 1;
      return answer(200, { access_token: `a${logins}`, refresh_token: `r${logins}`, user_id: `new-user-${logins}`, device_id: "d1" });
    },
    openUserStore: () => store,
  });
});

afterEach(() => installPlatform(nodePlatform));

/** Lets every settled promise's continuations run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("App over an asynchronous user store", () => {
  test("currentUser refuses to answer until the users are read, naming App.open; App.open waits for them", async () => {
    const early = new App({ id: "x", baseUrl: "http://127.0.0.1:1" });
    expect(() => early.currentUser).toThrow("app.currentUser is not known yet: this app's users are still being read from held:test");
    expect(() => early.allUsers).toThrow("await App.open(config)");

    let opened: App | null = null;
    const opening = App.open({ id: "x", baseUrl: "http://127.0.0.1:1" }).then((app) => (opened = app));
    await settle();
    expect(opened).toBeNull();
    store.reads[1]!.resolve({ currentUserId: kept.id, users: [kept] });
    const app = await opening;
    expect(app.currentUser?.id).toBe(kept.id);
    // The app made with `new App` knows its users too, once its own read settles.
    store.reads[0]!.resolve({ currentUserId: kept.id, users: [kept] });
    await settle();
    expect(early.currentUser?.id).toBe(kept.id);
  });

  test("a failed read is named by App.open and by currentUser", async () => {
    const opening = App.open({ id: "x", baseUrl: "http://127.0.0.1:1" });
    store.reads[0]!.reject(new Error("the disk is gone"));
    await expect(opening).rejects.toThrow("the disk is gone");
    const app = new App({ id: "x", baseUrl: "http://127.0.0.1:1" });
    store.reads[1]!.reject(new Error("still gone"));
    await settle();
    expect(() => app.currentUser).toThrow("reading this app's users from held:test failed: still gone");
  });

  test("an anonymous login waits for the read and reuses the kept anonymous user: no new user on the server", async () => {
    const app = new App({ id: "x", baseUrl: "http://127.0.0.1:1" });
    const login = app.logIn(Credentials.anonymous());
    await settle();
    // Not sent before the users are known: the kept anonymous user may be among them.
    expect(requests).toEqual([]);
    store.reads[0]!.resolve({ currentUserId: null, users: [kept] });
    await settle();
    // Made current: saved, and the login waits for that write.
    expect(store.writes.map((w) => w.users.currentUserId)).toEqual([kept.id]);
    store.writes[0]!.done.resolve();
    expect((await login).id).toBe(kept.id);
    expect(logins).toBe(0);
  });

  test("logIn resolves only once the write of the new user has, and rejects when it fails", async () => {
    const app = new App({ id: "x", baseUrl: "http://127.0.0.1:1" });
    store.reads[0]!.resolve({ currentUserId: null, users: [] });
    let loggedIn = false;
    const login = app.logIn(Credentials.emailPassword("a@b.c", "pw")).then((user) => {
      loggedIn = true;
      return user;
    });
    await settle();
    expect(store.writes).toHaveLength(1);
    expect(store.writes[0]!.users).toEqual({ currentUserId: "new-user-1", users: [expect.objectContaining({ id: "new-user-1", refreshToken: "r1" })] });
    expect(loggedIn).toBe(false);
    store.writes[0]!.done.resolve();
    expect((await login).id).toBe("new-user-1");

    const failing = app.logIn(Credentials.emailPassword("d@e.f", "pw"));
    await settle();
    store.writes[1]!.done.reject(new Error("QuotaExceededError"));
    await expect(failing).rejects.toThrow("QuotaExceededError");
  });

  test("logOut resolves once the logged-out user is written, after revoking the session at the server", async () => {
    const app = new App({ id: "x", baseUrl: "http://127.0.0.1:1" });
    store.reads[0]!.resolve({ currentUserId: kept.id, users: [kept] });
    await settle();
    const user = app.currentUser!;
    let loggedOut = false;
    const logout = user.logOut().then(() => (loggedOut = true));
    await settle();
    expect(requests.map((r) => r.method)).toEqual(["DELETE"]);
    expect(store.writes[0]!.users.users).toEqual([{ ...kept, accessToken: null, refreshToken: null }]);
    expect(loggedOut).toBe(false);
    store.writes[0]!.done.resolve();
    await logout;
    expect(app.currentUser).toBeNull();
  });
});
