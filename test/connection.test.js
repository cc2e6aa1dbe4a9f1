// http/ against a fake Socket, no process and no network: the runtime contract seen from the
// HTTP side. Bytes delivered in HttpServer.readBuffer (wasm memory, as Node's onread path does)
// are parsed in place and may be overwritten after data() returns; pipelined requests are
// answered in order and not dispatched until the socket is writable again; stopGracefully()
// gives idle connections STOP_IDLE_MS to send a last request and closes busy ones after their
// response.
// Runtime-independent: scripts/test.mjs runs it under each Node line, `bun test` and `deno test -A`
// (so it imports what it uses from node: modules instead of relying on Node's globals).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { setImmediate } from "node:timers";
import { HttpServer } from "../dist/http/server.js";
import { STOP_IDLE_MS } from "../dist/http/connection.js";
import { FakeSocket } from "./harness.js";

const OPTIONS = {
  timeoutMs: 5000, keepaliveTimeoutMs: 5000, maxKeepaliveReqs: 0, headerTimeoutMs: 5000,
  maxHeaderSize: 16384, maxBodySize: 0, development: false, errorLog: () => {},
  worker: { id: 1, pid: 1, generation: 1 },
  clock: {
    now: () => performance.now(),
    setTimer(ms, fn) {
      const t = setTimeout(fn, ms);
      return { cancel: () => clearTimeout(t) };
    },
    every(ms, fn) {
      const t = setInterval(fn, ms);
      t.unref?.();
      return { cancel: () => clearInterval(t) };
    },
  },
};
const LISTENER = { url: "http://127.0.0.1:1/", close: async () => {} };

function setup(fetch, hooks = {}) {
  const server = new HttpServer(fetch, OPTIONS, { onRequest() {}, onRetire() {}, ...hooks });
  const sock = new FakeSocket();
  sock.events = server.accept(sock, LISTENER);
  // Deliver bytes the way Node's onread path does: in the shared read buffer, valid only
  // during the call (scribbled over right after, as the next read would).
  const deliver = (text) => {
    const bytes = Buffer.from(text, "latin1");
    server.readBuffer.set(bytes);
    sock.events.data(server.readBuffer.subarray(0, bytes.length));
    server.readBuffer.fill(0x7a, 0, bytes.length);
  };
  return { server, sock, deliver };
}

const tick = () => new Promise((r) => setImmediate(r));
const count = (s, re) => (s.match(re) ?? []).length;

test("a head delivered in the read buffer is parsed in place and answered in one write", async () => {
  let seen;
  const { sock, deliver } = setup((req) => {
    seen = { method: req.method, url: req.url, ua: req.headers.get("user-agent") };
    return new Response("hi");
  });
  deliver("GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n");
  assert.deepEqual(seen, { method: "GET", url: "http://example.com/a?b=1", ua: "t" });
  assert.match(sock.written, /^HTTP\/1\.1 200 OK\r\n[\s\S]*content-length: 2\r\n\r\nhi$/);
  assert.equal(sock.writes, 1, "head and body in one write");
});

test("a head split across reads survives the read buffer being reused in between", async () => {
  let url;
  const { sock, deliver } = setup((req) => {
    url = req.url;
    return new Response("ok");
  });
  deliver("GET /split/path HTTP/1.1\r\nHo");
  deliver("st: h\r\nX-Long: ");
  deliver("value\r\n\r\n");
  assert.equal(url, "http://h/split/path");
  assert.match(sock.written, /\r\n\r\nok$/);
});

test("a body delivered with its head is copied out before the buffer is reused", async () => {
  const { sock, deliver } = setup(async (req) => new Response(await req.text()));
  deliver("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world");
  await tick();
  assert.match(sock.written, /\r\n\r\nhello world$/);
});

test("pipelined requests behind an async handler are dispatched one at a time, in order", async () => {
  const order = [];
  let release;
  const gate = new Promise((r) => (release = r));
  const { sock, deliver } = setup(async (req) => {
    const path = new URL(req.url).pathname;
    order.push(`start ${path}`);
    if (path === "/1") await gate;
    order.push(`end ${path}`);
    return new Response(path);
  });
  deliver("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n");
  await tick();
  assert.deepEqual(order, ["start /1"], "the second waits for the first response");
  release();
  await tick();
  await tick();
  assert.deepEqual(order, ["start /1", "end /1", "start /2", "end /2"]);
  assert.match(sock.written, /\r\n\r\n\/1HTTP\/1\.1 200 OK[\s\S]*\r\n\r\n\/2$/);
});

test("no further pipelined request is dispatched until the socket is writable again", async () => {
  let calls = 0;
  const { sock, deliver } = setup(() => {
    calls++;
    return new Response("x");
  });
  sock.writable = false;
  deliver("GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
  assert.equal(calls, 1);
  sock.writable = true;
  sock.events.writable();
  assert.equal(calls, 2);
  assert.equal(count(sock.written, /HTTP\/1\.1 200/g), 2);
});

test("a protocol error is answered with a status, a reason and Connection: close", async () => {
  const lines = [];
  const server = new HttpServer(() => new Response("never"), { ...OPTIONS, errorLog: (l) => lines.push(l) }, { onRequest() {}, onRetire() {} });
  const sock = new FakeSocket();
  sock.events = server.accept(sock, LISTENER);
  sock.events.data(Buffer.from("GET / HTTP/1.1\r\n\r\n"));
  assert.match(sock.written, /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*connection: close\r\n[\s\S]*\r\n\r\n400 Bad Request\n$/);
  assert.ok(sock.ended);
  assert.deepEqual(lines, ["pronghorn: 400: HTTP/1.1 request without Host from 10.0.0.7:51234"]);
});

test("stopGracefully() answers a request that reaches an idle connection in time with Connection: close, closes a silent one after STOP_IDLE_MS, and a busy one after its response", async () => {
  let release;
  const gate = new Promise((r) => (release = r));
  const server = new HttpServer(async (req) => {
    if (new URL(req.url).pathname === "/slow") await gate;
    return new Response("done");
  }, OPTIONS, { onRequest() {}, onRetire() {} });
  const silent = new FakeSocket();
  silent.events = server.accept(silent, LISTENER);
  const late = new FakeSocket();
  late.events = server.accept(late, LISTENER);
  const busy = new FakeSocket();
  busy.events = server.accept(busy, LISTENER);
  busy.events.data(Buffer.from("GET /slow HTTP/1.1\r\nHost: h\r\n\r\n"));
  const start = Date.now();
  const stopped = server.stopGracefully();
  let done = false;
  stopped.then(() => (done = true));
  await tick();
  // Closing an idle connection at once would race a request already on its way: it gets time.
  assert.ok(!silent.ended && !silent.destroyed, "an idle connection is not closed at once");
  late.events.data(Buffer.from("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
  await tick();
  assert.match(late.written, /^HTTP\/1\.1 200 OK\r\n[\s\S]*connection: close\r\n[\s\S]*done$/);
  assert.ok(late.ended, "closed after the response");
  while (!silent.ended && !silent.destroyed && Date.now() - start < 5000) await new Promise((r) => setTimeout(r, 20));
  const silentAfter = Date.now() - start;
  assert.ok(silentAfter >= STOP_IDLE_MS - 50 && silentAfter < STOP_IDLE_MS + 1000, `silent connection closed after ${silentAfter} ms`);
  assert.equal(silent.written, "", "nothing is written to a connection that sent nothing");
  assert.equal(done, false, "the busy connection is still open");
  release();
  await stopped;
  assert.match(busy.written, /connection: close\r\n[\s\S]*done$/);
  assert.equal(server.connectionCount, 0);
});

test("onRequest counts every dispatched request", async () => {
  let n = 0;
  const { deliver } = setup(() => new Response("x"), { onRequest: () => n++ });
  deliver("GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
  assert.equal(n, 3);
});

/** A connection with `options` over OPTIONS, recording the error log. */
test("a stop that begins while a streamed response is out gives its connection STOP_IDLE_MS after the response, not the whole --keepalive-timeout", async () => {
  let finish;
  const server = new HttpServer(() => new Response(new ReadableStream({
    start(c) {
      c.enqueue(new TextEncoder().encode("part"));
      finish = () => c.close();
    },
  })), OPTIONS, { onRequest() {}, onRetire() {} });
  const sock = new FakeSocket();
  sock.events = server.accept(sock, LISTENER);
  sock.events.data(Buffer.from("GET /stream HTTP/1.1\r\nHost: h\r\n\r\n"));
  while (!sock.written.includes("part")) await tick();
  assert.doesNotMatch(sock.written, /connection: close/, "keep-alive was decided with the head");
  const stopped = server.stopGracefully();
  finish();
  const start = Date.now();
  const hold = setInterval(() => {}, 50); // the sweeper's timer is unref'd: keep the loop alive
  await stopped;
  clearInterval(hold);
  const after = Date.now() - start;
  assert.ok(sock.ended || sock.destroyed, "the connection is closed");
  assert.ok(after < STOP_IDLE_MS + 1000, `closed ${after} ms after the response (keep-alive timeout ${OPTIONS.keepaliveTimeoutMs} ms)`);
});

function setupLogged(fetch, options) {
  const lines = [];
  const server = new HttpServer(fetch, { ...OPTIONS, ...options, errorLog: (l) => lines.push(l) }, { onRequest() {}, onRetire() {} });
  const sock = new FakeSocket();
  sock.events = server.accept(sock, LISTENER);
  return { sock, lines };
}

test("a head over maxHeaderSize is 431, 414, 501 or 400 by what is long, decided alike for whole and partial heads", () => {
  const long = "a".repeat(200);
  for (const [head, status, reason] of [
    [`GET / HTTP/1.1\r\nHost: h\r\nX: ${long}\r\n\r\n`, 431, "request head over 100 bytes"],
    [`GET /${long} HTTP/1.1\r\nHost: h\r\n\r\n`, 414, "request line over 100 bytes"],
    [`\r\nGET /${long} HTTP/1.1\r\nHost: h\r\n\r\n`, 414, "request line over 100 bytes"],
    [`${long.toUpperCase()} / HTTP/1.1\r\nHost: h\r\n\r\n`, 501, "a method over 100 bytes"],
  ]) {
    for (const [how, bytes] of [["whole", head], ["partial", head.slice(0, 150)]]) {
      const { sock, lines } = setupLogged(() => new Response("never"), { maxHeaderSize: 100 });
      sock.events.data(Buffer.from(bytes, "latin1"));
      assert.match(sock.written, new RegExp(`^HTTP/1\\.1 ${status} `), `${how}: ${JSON.stringify(head.slice(0, 30))}`);
      assert.deepEqual(lines, [`pronghorn: ${status}: ${reason} from 10.0.0.7:51234`], how);
    }
  }
  // a method that is not a token, sent in pieces (last_len > 0: the parser only looks for the blank line)
  const { sock, lines } = setupLogged(() => new Response("never"), { maxHeaderSize: 100 });
  sock.events.data(Buffer.from("AAAA"));
  sock.events.data(Buffer.from(`{${"A".repeat(150)}`));
  assert.match(sock.written, /^HTTP\/1\.1 400 /);
  assert.deepEqual(lines, ["pronghorn: 400: malformed request line from 10.0.0.7:51234"]);
});

test("a chunk size past maxBodySize is answered 413 when its line arrives, before any of its data", async () => {
  let read = null;
  const { sock, lines } = setupLogged(async (req) => {
    read = req.text().then(() => "whole", (e) => e.message);
    await read;
    return new Response("never");
  }, { maxBodySize: 10 });
  sock.events.data(Buffer.from("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n"));
  assert.equal(sock.written, "");
  sock.events.data(Buffer.from("6\r\n"));
  assert.match(sock.written, /^HTTP\/1\.1 413 /);
  assert.ok(sock.ended);
  assert.deepEqual(lines, ["pronghorn: 413: request body over 10 bytes (a chunk size) from 10.0.0.7:51234"]);
  assert.match(await read, /request body over 10 bytes/);
});
