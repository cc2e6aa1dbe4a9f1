// The apps the HTTP black-box suites (test/http-*.test.js) run, one route per behaviour under
// test, the helpers to start them, and the two table runners the framing, smuggling, keep-alive
// and app-error tables share. Not a test file itself.
//
//   APP_SOURCE           the plain app: /hello, /info, /echo, /stream, ... (startApp)
//   COUNTING_APP_SOURCE  an app that counts its calls (GET /__calls answers the count), so that a
//                        request smuggled past the framing shows up as an extra call, with routes
//                        for the responses an app gets wrong (startCountingApp, countedRows)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, writeApp, rawExchange, splitResponses, countedExchange, get, connect, until } from "./harness.js";

export const APP_SOURCE = String.raw`
let aborted = 0, started = 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export default {
  async fetch(request, info) {
    const url = new URL(request.url);
    const q = url.searchParams;
    // How many requests the app has been given (not counting these probes): a test awaits it
    // to know the app has a request before the client goes away.
    if (url.pathname === "/started") return new Response(String(started));
    started++;
    switch (url.pathname) {
      case "/hello": return new Response("hello");
      case "/info": return Response.json({
        method: request.method, url: request.url, headers: [...request.headers],
        isRequest: request instanceof Request, remote: info.remoteAddr, ip: info.requestIP(request),
        worker: info.worker, bodyUsed: request.bodyUsed, hasBody: request.body !== null,
      });
      case "/echo": return new Response(request.body, { headers: { "content-type": "application/octet-stream" } });
      case "/text": { const t = await request.text(); return Response.json({ length: t.length, head: t.slice(0, 16), tail: t.slice(-16) }); }
      case "/json": return Response.json({ got: await request.json() });
      case "/bytes-in": { const b = new Uint8Array(await request.arrayBuffer()); let sum = 0; for (const x of b) sum = (sum + x) % 65521; return Response.json({ length: b.length, sum }); }
      case "/form": { const f = await request.formData(); return Response.json([...f].map(([k, v]) => [k, typeof v === "string" ? v : v.name])); }
      case "/bytes": return new Response(new Uint8Array(Number(q.get("n") ?? 10)).fill(97));
      case "/big": return new Response("é".repeat(Number(q.get("n") ?? 100000)));
      case "/stream": {
        const n = Number(q.get("n") ?? 3), size = Number(q.get("size") ?? 5);
        let i = 0;
        return new Response(new ReadableStream({ async pull(c) {
          if (i++ === n) return c.close();
          await sleep(1);
          c.enqueue(new Uint8Array(size).fill(98));
        } }));
      }
      case "/stream-length": return new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("abc")); c.close(); } }), { headers: { "content-length": "3" } });
      case "/throw": throw new Error("boom from the app");
      case "/nonresponse": return { not: "a response" };
      case "/crlf": return new Response("x", { headers: { "x-bad": "a\r\nx-injected: yes" } });
      case "/cookies": return new Response("c", { headers: [["set-cookie", "a=1; Path=/"], ["set-cookie", "b=2; Path=/"]] });
      case "/204": return new Response(null, { status: 204 });
      case "/304": return new Response(null, { status: 304, headers: { etag: '"x"' } });
      case "/status": return new Response("s", { status: Number(q.get("s")), statusText: q.get("t") ?? "" });
      case "/slow": await sleep(Number(q.get("ms") ?? 100)); return new Response("slow " + q.get("id"));
      case "/early": info.informational(103, { link: "</a.css>; rel=preload" }); return new Response("after hints");
      case "/retire": info.retire(); return new Response("retiring " + info.worker.pid);
      case "/pid": return new Response(String(info.worker.pid));
      case "/ignore-body": return new Response("ignored");
      case "/native": return Response.redirect("http://example.com/", 302);
      case "/wait-abort": await new Promise((r) => request.signal.addEventListener("abort", r)); aborted++; return new Response("late");
      case "/aborted": return new Response(String(aborted));
      case "/mutate": { const r = new Response("m"); r.headers.set("x-added", "1"); return r; }
      case "/clone": { const c = request.clone(); const [a, b] = await Promise.all([request.text(), c.text()]); return new Response(a + "|" + b); }
      default: return new Response("not found", { status: 404 });
    }
  },
};
`;

let appPath;
export function appFile() {
  return appPath ??= writeApp(APP_SOURCE, "http-app.mjs");
}

const LOCAL = ["--workers", "1", "--host", "127.0.0.1", "--port", "0", "-E", "production"];

/** Start pronghorn with one worker on a free port with the test app and extra options. */
export function startApp(args = [], options = {}) {
  return startServer([...LOCAL, ...args, appFile()], options);
}

/**
 * Start the servers `starts` names ({ name: () => startApp(...) }) together before the file's
 * tests, and stop them after, each having to exit 0. Returns the object they appear on, by name,
 * once started.
 */
export function serversForFile(starts) {
  const servers = {};
  before(async () => {
    const names = Object.keys(starts);
    const started = await Promise.all(names.map((name) => starts[name]()));
    names.forEach((name, i) => { servers[name] = started[i]; });
  });
  after(async () => {
    const names = Object.keys(servers);
    const exits = await Promise.all(names.map((name) => servers[name].stop()));
    names.forEach((name, i) => assert.equal(exits[i].code, 0, `the ${name} server's exit code`));
  });
  return servers;
}

/** The number of requests the plain app has been given so far (GET /started, not counted). */
export async function startedCount(server) {
  return Number((await get(server, "/started")).body);
}

/**
 * Open a connection to the plain app, send `bytes`, and resolve with the connection (harness.js
 * connect()) once the app has been given the request: for a client that then goes away.
 */
export async function sendToApp(server, bytes) {
  const c = await connect(server);
  const before = await startedCount(server);
  c.s.write(bytes);
  await until(async () => (await startedCount(server)) > before, "the app has the request");
  return c;
}

export const COUNTING_APP_SOURCE = String.raw`
let calls = 0, cancelled = 0, aborted = 0, waiting = 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export default {
  fetch(request, info) {
    if (request.url.includes("/sync/")) {
      calls++;
      return this.sync(request);
    }
    return this.asyncFetch(request, info);
  },
  async asyncFetch(request, info) {
    const url = new URL(request.url);
    if (url.pathname === "/__calls") return new Response(String(calls));
    if (url.pathname === "/__gone") return new Response(cancelled + "," + aborted);
    if (url.pathname === "/__waiting") return new Response(String(waiting));
    if (url.pathname.startsWith("/url/")) return new Response(request.url);
    calls++;
    switch (url.pathname) {
      case "/echo": { const t = await request.text(); return new Response(request.method + " " + t.length + ":" + t); }
      case "/echo-stream": return new Response(request.body);
      case "/big": return new Response(new Uint8Array(32 << 20));
      case "/ignore": return new Response("ignored");
      case "/stream-error": { let i = 0; return new Response(new ReadableStream({ async pull(c) { if (i++ < 2) { await sleep(5); c.enqueue(new Uint8Array(10).fill(97)); } else { await sleep(20); c.error(new Error("midway")); } } })); }
      case "/stream-forever": return new Response(new ReadableStream({ async pull(c) { await sleep(20); c.enqueue(new Uint8Array(1000).fill(99)); }, cancel() { cancelled++; } }));
      case "/error": return Response.error();
      case "/redirect": return Response.redirect("http://example.com/x", 301);
      case "/json": return Response.json({ a: 1 }, { status: 201 });
      case "/nonresponse": return "a string";
      case "/throw": throw new Error("sync boom");
      case "/reject": return Promise.reject(new Error("async boom"));
      case "/latin1-header": return new Response("l", { headers: { "x-l": "caf\u00e9" } });
      case "/utf8-header": return new Response("u", { headers: { "x-u": "\u20ac" } });
      case "/status-text": return new Response("s", { statusText: "a\r\nx-injected: 1" });
      case "/form": { const f = await request.formData(); return Response.json([...f].map(([k, v]) => [k, typeof v === "string" ? v : v.name + ":" + v.size])); }
      case "/wait-abort": waiting++; await new Promise((r) => request.signal.addEventListener("abort", r)); aborted++; return new Response("late");
      case "/after-leave": await sleep(200); return new Response("too late");
      case "/locked": { const r = new Response(new ReadableStream({ start(c) { c.enqueue(new Uint8Array(3)); c.close(); } })); r.body.getReader(); return r; }
      case "/used": { const r = new Response("abc"); await r.text(); return r; }
      case "/header-getter": return new Response("x", { headers: { get "x-a"() { throw new Error("getter"); } } });
      case "/proxy": return new Proxy(new Response("p"), {});
      case "/ctor-getter": return { get constructor() { throw new Error("ctor"); } };
      case "/latin1-reason": return new Response("s", { statusText: "Caf\u00e9" });
      default: return new Response(request.method + " " + url.pathname);
    }
  },
  // A second entry point, so that fetch can be sync for the cases where it matters (a value
  // thrown or returned synchronously reaches the server in the socket's data callback).
  sync(request) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/sync/thenable-throws": return { then() { throw new Error("thenable boom"); } };
      case "/sync/throw-null-proto": throw Object.create(null);
      case "/sync/reject-null-proto": return Promise.reject(Object.create(null));
      case "/sync/throw-proxy": throw new Proxy({}, { getPrototypeOf() { throw new Error("trap"); }, get() { throw new Error("trap"); } });
      case "/sync/locked": { const r = new Response(new ReadableStream({ start(c) { c.enqueue(new Uint8Array(3)); c.close(); } })); r.body.getReader(); return r; }
      case "/sync/header-getter": return new Response("x", { headers: { get "x-a"() { throw new Error("getter"); } } });
      default: return new Response("sync " + url.pathname);
    }
  },
};
`;

/** The limits the counted tables are written against (their rows name these numbers). */
export const TABLE_LIMITS = ["--max-body-size", "1000", "--max-header-size", "4096", "--timeout", "0.5"];

let countingPath;
/** Start pronghorn with one worker on a free port with the counting app and extra options. */
export function startCountingApp(args = [], options = {}) {
  countingPath ??= writeApp(COUNTING_APP_SOURCE, "counting-app.mjs");
  return startServer([...LOCAL, ...args, countingPath], options);
}

// The pieces the counted tables' rows are built of.
export const H = "Host: t\r\n";
/** The last request of every counted row: answered unless something before it closed the connection. */
export const LAST = "GET /last HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
/** A complete request hidden where a lax server would see a second request. */
export const SMUGGLED = "GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n"; // 35 bytes
export const post = (framing, body) => `POST /echo HTTP/1.1\r\n${H}${framing}\r\n${body}`;
export const chunked = (body) => post("Transfer-Encoding: chunked\r\n", body);

/**
 * One test per [what, bytes, final statuses, app calls] row, against the counting app that
 * `server()` returns: the bytes, then LAST, must produce those final statuses in order and that
 * many app calls, the server must close the connection, and no smuggled request is answered.
 */
export function countedRows(rows, server) {
  for (const [what, bytes, statuses, n] of rows) {
    test(`${what}: ${statuses.join(", ")} and ${n} app call(s)`, async () => {
      const r = await countedExchange(server(), bytes + LAST);
      assert.deepEqual(r.statuses, statuses, r.text.slice(0, 400));
      assert.equal(r.calls, n);
      assert.ok(!r.bodies.includes("GET /smuggled"), "no smuggled request was answered");
    });
  }
}

/**
 * One test per [what, raw request, status] row: the request gets that status, with a body that
 * starts with it (a short reason) and Connection: close, the connection closes, and the
 * `GET /hello` sent right behind it is never answered.
 */
export function refusedRows(rows, server) {
  for (const [what, raw, status] of rows) {
    test(`${what} gets ${status} and the connection closes`, async () => {
      const r = await exchange(server(), raw + "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n", { timeoutMs: 3000 });
      assert.ok(r.closed, "connection closed");
      assert.equal(r.responses.length, 1, `exactly one response: ${JSON.stringify(r.text.slice(0, 300))}`);
      assert.equal(r.responses[0].status, status);
      assert.deepEqual(r.responses[0].headers.connection, ["close"]);
      assert.match(r.responses[0].body, new RegExp(`^${status} `));
    });
  }
}

/** Send raw bytes and split what comes back into responses. */
export async function exchange(server, bytes, opts = {}) {
  const r = await rawExchange(server, bytes, opts);
  return { ...r, responses: splitResponses(r.text, { headRequests: opts.headRequests }) };
}

/** A complete-response predicate for rawExchange: `count` final responses have arrived. */
export function responses(count, headRequests = []) {
  return (text) => {
    // splitResponses loops forever on a chunked body cut short: wait for every terminator first.
    const chunkedHeads = (text.match(/transfer-encoding: chunked\r\n/gi) ?? []).length;
    const terminators = (text.match(/\r\n0\r\n\r\n/g) ?? []).length;
    if (terminators < chunkedHeads) return false;
    try {
      const all = splitResponses(text, { headRequests });
      const whole = all.every((r, i) => headRequests.includes(i) || !r.headers["content-length"] || r.body.length === Number(r.headers["content-length"][0]));
      return whole && all.filter((r) => !r.interim).length >= count;
    } catch {
      return false;
    }
  };
}
