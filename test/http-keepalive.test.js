// Persistent connections (RFC 9112 §9.3): pipelined requests are answered in order, one at a
// time; a request body the app never read is skipped (never parsed as a request) or the
// connection closes; Connection: close, --keepalive-timeout (0 = Gazelle mode),
// --max-keepalive-reqs, HTTP/1.0 (closes unless it asks for keep-alive), and the waits bounded
// by --timeout; a client that pipelines without reading is not buffered without bound.
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { once } from "node:events";
import { serversForFile, startApp, exchange, responses, startCountingApp, TABLE_LIMITS, countedRows, H, SMUGGLED } from "./http-app.js";
import { connect, sleep } from "./harness.js";

const servers = serversForFile({
  plain: () => startApp(["--keepalive-timeout", "1", "--timeout", "1"]),
  counted: () => startCountingApp(TABLE_LIMITS),
});

// The counting app: what ends a connection, and no request behind the end is answered.
countedRows([
  ["Connection: close with a request behind it", `GET / HTTP/1.1\r\n${H}Connection: close\r\n\r\n${SMUGGLED}`, [200], 1],
  ["Connection: keep-alive, close", `GET / HTTP/1.1\r\n${H}Connection: keep-alive, close\r\n\r\n${SMUGGLED}`, [200], 1],
  ["HTTP/1.0 without keep-alive and a request behind it", `GET / HTTP/1.0\r\n\r\n${SMUGGLED}`, [200], 1],
  ["HTTP/1.0 keep-alive", `GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n`, [200, 200], 2],
], () => servers.counted);

test("HTTP/1.0 closes by default and never gets chunked", async () => {
  const r = await exchange(servers.plain, "GET /stream?n=3&size=4 HTTP/1.0\r\n\r\n");
  assert.ok(r.closed);
  const [res] = r.responses;
  assert.equal(res.status, 200);
  assert.equal(res.headers["transfer-encoding"], undefined);
  assert.equal(res.body, "bbbbbbbbbbbb");
});

test("HTTP/1.0 with Connection: keep-alive and a known length stays open", async () => {
  const r = await exchange(servers.plain, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", { until: responses(2) });
  assert.equal(r.responses.length, 2);
  assert.deepEqual(r.responses[0].headers.connection, ["keep-alive"]);
  assert.equal(r.closed, false);
});

const get = (path, extra = "") => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

test("requests pipelined behind a slow handler are answered in order, each after the one ahead", async () => {
  const raw = get("/slow?ms=150&id=1") + get("/hello") + get("/slow?ms=10&id=3") + get("/info");
  const r = await exchange(servers.plain, raw, { until: responses(4) });
  assert.deepEqual(r.responses.slice(0, 3).map((x) => x.body), ["slow 1", "hello", "slow 3"]);
  assert.equal(JSON.parse(r.responses[3].body).method, "GET");
  assert.equal(r.closed, false);
});

test("a hundred pipelined requests in one write are all answered, in order", async () => {
  let raw = "";
  for (let i = 0; i < 100; i++) raw += get(`/slow?ms=0&id=${i}`);
  const r = await exchange(servers.plain, raw, { until: responses(100) });
  assert.deepEqual(r.responses.map((x) => x.body), Array.from({ length: 100 }, (_, i) => `slow ${i}`));
});

test("an unread Content-Length body is skipped, not parsed as the next request", async () => {
  const smuggled = get("/info");
  const raw = `POST /ignore-body HTTP/1.1\r\nHost: t\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}` + get("/hello");
  const r = await exchange(servers.plain, raw, { until: responses(2), timeoutMs: 2000 });
  assert.deepEqual(r.responses.map((x) => x.body), ["ignored", "hello"]);
});

test("an unread chunked body is skipped, not parsed as the next request", async () => {
  const smuggled = get("/info");
  const raw = `POST /ignore-body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n${smuggled.length.toString(16)}\r\n${smuggled}\r\n0\r\n\r\n` + get("/hello");
  const r = await exchange(servers.plain, raw, { until: responses(2), timeoutMs: 2000 });
  assert.deepEqual(r.responses.map((x) => x.body), ["ignored", "hello"]);
});

test("a large unread body closes the connection after the response", async () => {
  const r = await exchange(servers.plain, `POST /ignore-body HTTP/1.1\r\nHost: t\r\nContent-Length: 10000000\r\n\r\nxx`);
  assert.equal(r.responses[0].body, "ignored");
  assert.deepEqual(r.responses[0].headers.connection, ["close"]);
  assert.ok(r.closed);
});

test("Connection: close is answered with Connection: close and a FIN", async () => {
  const r = await exchange(servers.plain, get("/hello", "Connection: close\r\n") + get("/hello"));
  assert.equal(r.responses.length, 1);
  assert.deepEqual(r.responses[0].headers.connection, ["close"]);
  assert.ok(r.closed);
});

test("an idle keep-alive connection closes after --keepalive-timeout", async () => {
  const started = Date.now();
  const r = await exchange(servers.plain, get("/hello"), { timeoutMs: 5000 });
  assert.equal(r.responses[0].body, "hello");
  assert.ok(r.closed);
  assert.ok(Date.now() - started >= 900, `closed after ${Date.now() - started} ms`);
});

test("--keepalive-timeout 0 closes after every response (Gazelle mode)", async () => {
  const g = await startApp(["--keepalive-timeout", "0"]);
  try {
    const r = await exchange(g, get("/hello") + get("/hello"));
    assert.equal(r.responses.length, 1);
    assert.deepEqual(r.responses[0].headers.connection, ["close"]);
    assert.ok(r.closed);
  } finally {
    await g.stop();
  }
});

test("--max-keepalive-reqs closes the connection after that many requests", async () => {
  const g = await startApp(["--max-keepalive-reqs", "2"]);
  try {
    const r = await exchange(g, get("/hello") + get("/hello") + get("/hello"));
    assert.equal(r.responses.length, 2);
    assert.deepEqual(r.responses[1].headers.connection, ["close"]);
    assert.ok(r.closed);
  } finally {
    await g.stop();
  }
});

test("a body that stops arriving gets 408 after --timeout", async () => {
  const r = await exchange(servers.plain, "POST /text HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc", { timeoutMs: 5000 });
  assert.equal(r.responses[0].status, 408);
  assert.ok(r.closed);
});

test("a client that stops reading is cut off after --timeout, and the worker keeps serving", async () => {
  const sock = net.connect(servers.plain.port, servers.plain.host);
  await once(sock, "connect");
  sock.pause(); // never read: the server's writes back up until --timeout (1 s) ends the response
  sock.write(get("/stream?n=2000&size=65536"));
  sock.on("error", () => {});
  await sleep(2500); // a client that reads nothing for longer than --timeout: the test's subject
  // The server has given up by now: what it had queued drains, then the FIN, and no terminator.
  let received = 0;
  let tail = "";
  sock.on("data", (c) => {
    received += c.length;
    tail = (tail + c.toString("latin1")).slice(-16);
  });
  sock.resume();
  // Cut off by a FIN or a reset: Node 26's client side reports the latter as ECONNRESET where Node
  // 20's did not, so wait for "close" itself (once() would reject on the "error" before it).
  await Promise.race([new Promise((r) => sock.once("close", r)), new Promise((_, rej) => setTimeout(() => rej(new Error("not closed")), 8000))]);
  assert.ok(received < 2000 * 65536, `got ${received} bytes`);
  assert.ok(!tail.endsWith("0\r\n\r\n"), "the chunked body was not terminated");
  const r = await exchange(servers.plain, get("/hello", "Connection: close\r\n"));
  assert.equal(r.responses[0].body, "hello");
});

test("a client that pipelines requests but reads no answers is not buffered without bound; reading resumes when it reads", async () => {
  // Its own server: the shared ones' --timeout would cut this client off first.
  const srv = await startCountingApp();
  try {
    const c = await connect(srv);
    c.s.pause(); // read nothing: the 32 MiB answer to /big blocks the server's writes
    c.s.write(`GET /big HTTP/1.1\r\n${H}\r\n`);
    const batch = `GET / HTTP/1.1\r\n${H}X: ${"a".repeat(4000)}\r\n\r\n`.repeat(256); // 1 MiB, 256 requests
    const batches = 96;
    for (let i = 0; i < batches; i++) c.s.write(batch);
    // The kernel takes a few tens of MiB on loopback (tcp_rmem max 32 MiB here); a server that
    // keeps reading takes everything into its memory and leaves the client nothing buffered.
    // What is tested is that the server does not read for a while: the wait is the subject.
    await sleep(1000);
    assert.ok(c.s.writableLength > 24 * 1048576, `the server stopped reading (client still holds ${c.s.writableLength} bytes)`);
    // Now read: every request is answered, in order, and the connection stays usable.
    let answered = 0;
    let tail = "";
    c.s.removeAllListeners("data");
    const all = new Promise((resolve) => c.s.on("data", (d) => {
      const text = tail + d.toString("latin1");
      answered += (text.match(/HTTP\/1\.1 200 OK\r\n/g) ?? []).length;
      tail = text.slice(-20);
      if (answered >= 1 + 256 * batches) resolve();
    }));
    c.s.resume();
    await all;
    c.s.destroy();
  } finally {
    assert.equal((await srv.stop()).code, 0);
  }
});
