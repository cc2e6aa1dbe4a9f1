// The worker's stop state machine (src/worker.ts runWorker) against a fake WorkerRuntime and a
// fake clock: no process, no network. Each test names the guarantee; the black-box counterparts
// are test/ops-signals.test.js, ops-recycle.test.js and ops-resilience.test.js.
// Runtime-independent: scripts/test.mjs runs it under each Node line, `bun test` and `deno test -A`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import fs from "node:fs";
import path from "node:path";
import { runWorker, UNCAUGHT_STORM_COUNT, UNCAUGHT_STORM_MS } from "../dist/worker.js";
import { FakeClock, FakeSocket, tmpdir, until } from "./harness.js";

const DIR = tmpdir("pronghorn-worker-test-");
/** A --child-exit module that hands each call to the test running now. */
const HOOK = path.join(DIR, "child-exit.mjs");
fs.writeFileSync(HOOK, "export default (info) => globalThis.__pronghornWorkerTestHook(info);\n");
/** An app that takes `globalThis.__pronghornWorkerTestAppGate` to load. */
const SLOW_APP = path.join(DIR, "slow-app.mjs");
fs.writeFileSync(SLOW_APP, "await globalThis.__pronghornWorkerTestAppGate;\nexport default () => new Response('late');\n");

/** A Config as parseConfig makes it, with what these tests vary. */
function config(over = {}) {
  return {
    app: SLOW_APP, childExit: undefined, listen: [], workers: 1, backlog: 511,
    maxReqsPerChild: 0, minReqsPerChild: undefined, spawnIntervalMs: 0,
    timeoutMs: 300000, keepaliveTimeoutMs: 2000, maxKeepaliveReqs: 0, headerTimeoutMs: 60000,
    maxHeaderSize: 16384, maxBodySize: 0, gracefulTimeoutMs: 30000, startupTimeoutMs: 0,
    env: "production", accessLog: undefined, accessLogFormat: "combined",
    statusPath: undefined, statusAllow: [], healthPath: undefined,
    wasmSimd: true, nativeResponse: true, zeroCopyReads: true, directHandles: true,
    ...over,
  };
}

class FakeWorkerRuntime extends FakeClock {
  name = "node";
  version = "fake 1.0";
  pid = 4242;
  logs = [];
  exits = [];
  /** What the worker sent the supervisor, in order. */
  sent = [];
  /** What the worker gave connectSupervisor, listen, onWorkerSignal and onUncaughtError. */
  supervisor = null;
  signal = null;
  uncaught = null;
  accept = null;
  listeners = [];
  /** When set, listen() waits for this promise (a listener still being adopted). */
  listenGate = null;

  log(line) {
    this.logs.push(line);
  }
  exit(code) {
    this.exits.push(code);
  }
  workerContext() {
    return undefined;
  }
  connectSupervisor(events) {
    this.supervisor = events;
    return (m, done) => {
      this.sent.push(JSON.parse(JSON.stringify(m))); // as it travels
      if (done) queueMicrotask(done);
    };
  }
  async listen(handed, options, accept) {
    this.accept = accept;
    if (this.listenGate) await this.listenGate;
    const listener = { url: handed.url, closed: 0, close: async () => { listener.closed++; } };
    this.listeners.push(listener);
    return listener;
  }
  onWorkerSignal(handler) {
    this.signal = handler;
  }
  onUncaughtError(handler) {
    this.uncaught = handler;
  }
  openLog() {
    return { write() {}, reopen() {} };
  }
  // --- driving the worker ---
  message(type) {
    this.supervisor.message({ type });
  }
  types() {
    return this.sent.map((m) => m.type);
  }
  retiring() {
    return this.sent.find((m) => m.type === "retiring");
  }
}

/** A connection the worker accepts (on its first listener); `request()` sends it a request head. */
function connection(rt) {
  const sock = new FakeSocket();
  sock.events = rt.accept(sock, rt.listeners[0]);
  return sock;
}

function request(sock, target, headers = "") {
  sock.events.data(Buffer.from(`GET ${target} HTTP/1.1\r\nHost: h\r\n${headers}\r\n`, "latin1"));
}

const CTX = { id: 3, generation: 1, listeners: [{ url: "http://127.0.0.1:5000/", via: { kind: "fd", fd: 3 } }] };

/** A fetch handler whose /slow requests wait until `release()`. */
function gatedApp() {
  let release;
  const gate = new Promise((r) => (release = r));
  const fetch = async (req) => {
    if (new URL(req.url).pathname === "/slow") await gate;
    return new Response("done");
  };
  return { fetch, release };
}

/** Start a worker serving `fetch` (none: it loads SLOW_APP); `hook`, if any, is its --child-exit. */
async function start({ fetch, hook, listenGate = null, ...over } = {}) {
  const rt = new FakeWorkerRuntime();
  rt.listenGate = listenGate;
  const hookCalls = [];
  globalThis.__pronghornWorkerTestHook = (info) => {
    hookCalls.push(info);
    return hook?.(info);
  };
  const done = runWorker(rt, { ...CTX, payload: config({ childExit: hook ? HOOK : undefined, ...over }) }, fetch);
  if (fetch && !listenGate) await until(() => rt.types().includes("ready"), "the worker reports ready", 2000, 1);
  return { rt, hookCalls, done };
}

const exited = (rt, what) => until(() => rt.exits.length > 0, what, 2000, 1);

test("a stop before the app loaded exits 0 at once; a signal tells the supervisor it retires first", async () => {
  let loaded;
  globalThis.__pronghornWorkerTestAppGate = new Promise((r) => (loaded = r));
  const a = await start();
  a.rt.message("stop");
  assert.deepEqual(a.rt.exits, [0], "exit 0 at once");
  assert.deepEqual(a.rt.sent, [], "nothing to tell a supervisor that asked");

  const b = await start();
  b.rt.signal("SIGTERM");
  await exited(b.rt, "exit after a signal while loading");
  assert.deepEqual(b.rt.exits, [0]);
  assert.deepEqual(b.rt.sent, [{ type: "retiring", reason: "SIGTERM", signal: "SIGTERM" }]);
  loaded();
  await Promise.all([a.done, b.done]);
  assert.equal(a.rt.accept, null, "it never listened");
  assert.ok(!a.rt.types().includes("ready") && !b.rt.types().includes("ready"));
});

test("a stop while the listeners are being adopted closes them once they listen, then exits 0", async () => {
  let adopted;
  const { rt } = await start({ fetch: gatedApp().fetch, listenGate: new Promise((r) => (adopted = r)) });
  rt.message("stop");
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(rt.exits, [], "it waits for the listeners");
  adopted();
  await exited(rt, "exit once the listeners listened");
  assert.deepEqual(rt.exits, [0]);
  assert.equal(rt.listeners.length, 1);
  assert.equal(rt.listeners[0].closed, 1, "the listener is closed once");
  assert.deepEqual(rt.retiring(), { type: "retiring", reason: "stop" });
});

test("a graceful stop closes the listeners, says retiring, waits for the request in flight, runs --child-exit, exits 0", async () => {
  const app = gatedApp();
  const { rt, hookCalls } = await start({ fetch: app.fetch, hook: () => {} });
  const conn = connection(rt);
  request(conn, "/slow");
  rt.message("stop");
  await until(() => rt.listeners[0].closed === 1, "the listener closes", 2000, 1);
  assert.deepEqual(rt.retiring(), { type: "retiring", reason: "stop" });
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(rt.exits, [], "the request in flight is waited for");
  assert.deepEqual(hookCalls, [], "the hook runs after the last request");
  app.release();
  await exited(rt, "exit after the request");
  // Chunked or Content-Length: whether the platform Response exposes its body source differs by runtime.
  assert.match(conn.written, /^HTTP\/1\.1 200 OK\r\n[\s\S]*connection: close\r\n(?:[^\r\n]+\r\n)*\r\n(?:4\r\ndone\r\n0\r\n\r\n|done)$/);
  assert.ok(conn.ended && !conn.destroyed, "the connection ends after its response");
  assert.deepEqual(hookCalls, [{ worker: { id: 3, pid: 4242, generation: 1 }, reason: "stop" }]);
  assert.deepEqual(rt.exits, [0]);
  rt.message("stop");
  assert.equal(rt.types().filter((t) => t === "retiring").length, 1, "a second stop changes nothing");
});

test("a second signal stops now: connections closed, --child-exit skipped, exit 0", async () => {
  const app = gatedApp();
  const { rt, hookCalls } = await start({ fetch: app.fetch, hook: () => {} });
  const conn = connection(rt);
  request(conn, "/slow");
  rt.signal("SIGINT");
  await until(() => rt.retiring(), "retiring sent", 2000, 1);
  assert.deepEqual(rt.retiring(), { type: "retiring", reason: "SIGINT", signal: "SIGINT" });
  rt.message("stop"); // the supervisor's stop for the same Ctrl-C is not a second signal
  await new Promise((r) => setTimeout(r, 10));
  assert.ok(!conn.destroyed && rt.exits.length === 0, "still graceful after one signal and a stop");
  rt.signal("SIGINT");
  assert.ok(conn.destroyed, "the connection is closed at once");
  await exited(rt, "exit after the second signal");
  assert.deepEqual(rt.exits, [0]);
  assert.deepEqual(hookCalls, []);
  assert.ok(rt.logs.some((l) => /--child-exit did not run: --graceful-timeout passed before the requests finished/.test(l)), rt.logs.join("\n"));
  app.release();
});

test("stop-now from the supervisor while --child-exit runs exits 0 without waiting for it", async () => {
  const { rt, hookCalls } = await start({ fetch: gatedApp().fetch, hook: () => new Promise(() => {}) });
  rt.message("stop");
  await until(() => hookCalls.length === 1, "the hook starts", 2000, 1);
  assert.deepEqual(rt.exits, []);
  rt.message("stop-now");
  assert.deepEqual(rt.exits, [0], "exit at once");
  assert.ok(rt.logs.some((l) => /--child-exit did not finish before --graceful-timeout; exiting without it/.test(l)), rt.logs.join("\n"));
});

test("with the supervisor gone the worker stops by itself and enforces --graceful-timeout", async () => {
  const app = gatedApp();
  const { rt } = await start({ fetch: app.fetch, gracefulTimeoutMs: 5000 });
  const conn = connection(rt);
  request(conn, "/slow");
  rt.supervisor.gone();
  await until(() => rt.listeners[0].closed === 1, "the listener closes", 2000, 1);
  assert.equal(rt.retiring().reason, "supervisor gone");
  rt.advance(4999);
  await new Promise((r) => setTimeout(r, 10));
  assert.ok(!conn.destroyed && rt.exits.length === 0, "the request gets its time");
  rt.advance(1);
  assert.ok(conn.destroyed, "closed at the deadline");
  await exited(rt, "exit at the deadline");
  assert.deepEqual(rt.exits, [0]);
  app.release();
});

test("the request quota retires the worker after the request that reaches it", async () => {
  const { rt, hookCalls } = await start({ fetch: gatedApp().fetch, hook: () => {}, maxReqsPerChild: 2 });
  const conn = connection(rt);
  request(conn, "/a");
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(rt.retiring(), undefined);
  request(conn, "/b", "Connection: close\r\n");
  await exited(rt, "exit at the quota");
  assert.deepEqual(rt.retiring(), { type: "retiring", reason: "quota" });
  assert.equal(rt.listeners[0].closed, 1);
  assert.equal((conn.written.match(/HTTP\/1\.1 200 OK/g) ?? []).length, 2, "the request at the quota is answered");
  assert.deepEqual(hookCalls.map((c) => c.reason), ["quota"]);
  assert.deepEqual(rt.exits, [0]);
});

test(`${UNCAUGHT_STORM_COUNT} uncaught errors within ${UNCAUGHT_STORM_MS} ms retire the worker; fewer, or spread out, do not`, async () => {
  const { rt } = await start({ fetch: gatedApp().fetch });
  for (let i = 0; i < UNCAUGHT_STORM_COUNT - 1; i++) rt.uncaught(new Error("tick"), "exception");
  rt.advance(UNCAUGHT_STORM_MS);
  rt.uncaught(new Error("later"), "rejection");
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(rt.retiring(), undefined, "the old errors left the window");
  assert.match(rt.logs.at(-1), /^pronghorn: worker 3 \(pid 4242\): unhandled rejection \(the worker goes on\): Error: later$/);
  for (let i = 0; i < UNCAUGHT_STORM_COUNT - 1; i++) rt.uncaught(new Error("tick"), "exception");
  await exited(rt, "exit after the storm");
  assert.deepEqual(rt.retiring(), { type: "retiring", reason: "uncaught errors", errors: UNCAUGHT_STORM_COUNT });
  assert.ok(rt.logs.includes(`pronghorn: worker 3 (pid 4242): ${UNCAUGHT_STORM_COUNT} uncaught errors within ${UNCAUGHT_STORM_MS / 1000} s; retiring`));
  assert.deepEqual(rt.exits, [0]);
});
