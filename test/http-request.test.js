// The Request and ServeInfo an app gets, and clients that go away: the lazy Request behaves as
// the platform's (instanceof, url, headers, body), request.signal aborts and a response stream is
// cancelled when the client vanishes, and a vanished client never takes the worker down (the same
// again and again, with the worker's sockets and memory watched: http-slow-clients.test.js).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { once } from "node:events";
import { startApp, appFile, exchange, responses, sendToApp, startCountingApp, H } from "./http-app.js";
import { RUNTIME, baseUrl, startServer, writeApp, tmpdir, until, get, connect } from "./harness.js";
import path from "node:path";

let server;
before(async () => {
  server = await startApp();
});
after(async () => {
  assert.equal((await server.stop()).code, 0);
});

test("the app gets a Request with an absolute url, headers and ServeInfo", async () => {
  const r = await exchange(server, "GET /info?x=1 HTTP/1.1\r\nHost: example.test:9\r\nX-One: 1\r\nX-One: 2\r\nConnection: close\r\n\r\n");
  const info = JSON.parse(r.responses[0].body);
  assert.equal(info.isRequest, true);
  assert.equal(info.url, "http://example.test:9/info?x=1");
  assert.deepEqual(info.headers, [["connection", "close"], ["host", "example.test:9"], ["x-one", "1, 2"]]);
  assert.equal(info.remote.transport, "tcp");
  assert.equal(info.remote.hostname, "127.0.0.1");
  assert.deepEqual(info.ip, { address: "127.0.0.1", family: "IPv4", port: info.remote.port });
  assert.equal(info.hasBody, false);
  assert.equal(typeof info.worker.pid, "number");
});

test("103 Early Hints go out before the final response, and not to HTTP/1.0", async () => {
  const r = await exchange(server, "GET /early HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  assert.equal(r.responses.length, 2);
  assert.equal(r.responses[0].status, 103);
  assert.deepEqual(r.responses[0].headers.link, ["</a.css>; rel=preload"]);
  assert.equal(r.responses[1].body, "after hints");
  const r10 = await exchange(server, "GET /early HTTP/1.0\r\n\r\n");
  assert.deepEqual(r10.responses.map((x) => x.status), [200]);
});

test("request.signal aborts when the client goes away mid-request; the worker keeps serving", async () => {
  const aborted = async () => Number(await (await fetch(`${baseUrl(server)}/aborted`)).text());
  const before = await aborted();
  const c = await sendToApp(server, "GET /wait-abort HTTP/1.1\r\nHost: t\r\n\r\n");
  c.s.destroy();
  const now = await until(async () => { const n = await aborted(); return n !== before && n; }, "request.signal aborted", 1000).catch(aborted);
  assert.equal(now, before + 1);
});

test("a client that vanishes mid-body or mid-response does not disturb the next one", async () => {
  const a = await sendToApp(server, "POST /text HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\npartial");
  a.s.destroy();
  const b = net.connect(server.port, server.host);
  await once(b, "connect");
  b.write("GET /stream?n=100&size=65536 HTTP/1.1\r\nHost: t\r\n\r\n");
  await once(b, "data");
  b.destroy();
  const r = await exchange(server, "GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  assert.equal(r.responses[0].body, "hello");
});

test("a client that disconnects cancels the response stream that never ends and aborts request.signal; the worker serves on", async () => {
  const srv = await startCountingApp();
  try {
    for (const request of [`GET /stream-forever HTTP/1.1\r\n${H}\r\n`, `GET /wait-abort HTTP/1.1\r\n${H}\r\n`]) {
      const c = await connect(srv);
      c.s.write(request);
      if (request.includes("forever")) await c.waitFor(/\r\n\r\n./);
      else await until(async () => (await get(srv, "/__waiting")).body === "1", "the app has the request"); // it answers only on abort
      c.s.destroy();
    }
    // Each probe is a round trip on a new connection: the server has seen the closes by the
    // time it answers one, give or take the order of events in one loop turn.
    const state = await until(async () => { const b = (await get(srv, "/__gone")).body; return b === "1,1" && b; }, "stream cancelled, signal aborted", 5000)
      .catch(async () => (await get(srv, "/__gone")).body);
    assert.equal(state, "1,1", "stream cancelled, signal aborted");
  } finally {
    assert.equal((await srv.stop()).code, 0);
  }
});

test("a client that half-closes after its request still gets the response", async () => {
  const r = await exchange(server, "GET /slow?ms=50&id=h HTTP/1.1\r\nHost: t\r\n\r\n", { endAfterWrite: true });
  assert.equal(r.responses[0].body, "slow h");
  assert.ok(r.closed);
});

test("retire() makes the worker exit after the response, and a new one serves", async () => {
  const s = await startApp();
  try {
    const first = await (await fetch(`${baseUrl(s)}/retire`, { headers: { connection: "close" } })).text();
    const pid = first.split(" ")[1];
    const pidNow = () => fetch(`${baseUrl(s)}/pid`, { headers: { connection: "close" } }).then((x) => x.text(), () => pid);
    const other = await until(async () => { const p = await pidNow(); return p !== pid && p; }, "a new worker serves", 5000, 50).catch(() => pid);
    assert.notEqual(other, pid);
  } finally {
    await s.stop();
  }
});

test("a unix socket listener serves, and requestIP is null there", async () => {
  const sockPath = path.join(tmpdir(), "p.sock");
  const s = await startServer(["--workers", "1", "--listen", sockPath, "-E", "production", writeApp(
    "export default { fetch(req, info) { return Response.json({ ip: info.requestIP(req), remote: info.remoteAddr, url: req.url }); } };")]);
  try {
    const r = await exchange(s, "GET /u HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    const body = JSON.parse(r.responses[0].body);
    assert.equal(body.ip, null);
    assert.equal(body.remote.transport, "unix");
    assert.equal(body.url, "http://h/u");
  } finally {
    await s.stop();
  }
});

test("an IPv6 listener serves", async () => {
  const s = await startServer(["--workers", "1", "--host", "::1", "--port", "0", "-E", "production", writeApp(
    "export default { fetch(req, info) { return Response.json(info.requestIP(req)); } };")]);
  try {
    const r = await exchange(s, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    assert.equal(JSON.parse(r.responses[0].body).family, "IPv6");
  } finally {
    await s.stop();
  }
});

// Node and Deno: ordinary reads instead of reads into wasm memory; Bun: its own read buffers
// handed to http/ instead of a copy of each in wasm memory.
test("the plain read path (PRONGHORN_NO_ONREAD=1) serves the same bytes", async () => {
  const s = await startApp([], { env: { PRONGHORN_NO_ONREAD: "1" } });
  try {
    const raw = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhelloGET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    const r = await exchange(s, raw, { until: responses(2) });
    assert.deepEqual(r.responses.map((x) => x.body), ["hello", "hello"]);
  } finally {
    await s.stop();
  }
});

// Node drives accepted connections through their libuv handle (src/runtime/node-handle.ts); the
// variable keeps a net.Socket around each one (the fallback when the private pieces are missing).
// The Node 24 pass of scripts/test.mjs runs every black-box file with it set.
const directOnly = RUNTIME !== "node" && `PRONGHORN_NO_DIRECT_HANDLE=1 selects Node's net.Socket path; ${RUNTIME} has no direct path`;
test("the net.Socket path (PRONGHORN_NO_DIRECT_HANDLE=1) serves the same bytes, TCP and unix", { skip: directOnly }, async () => {
  const raw = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhelloGET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
  for (const direct of ["1", "0"]) {
    for (const where of [["--host", "127.0.0.1", "--port", "0"], ["--socket", path.join(tmpdir(), "direct.sock")]]) {
      const s = await startServer(["--workers", "1", "-E", "production", ...where, appFile()], { env: { PRONGHORN_NO_DIRECT_HANDLE: direct } });
      try {
        const r = await exchange(s, raw, { until: responses(2) });
        assert.deepEqual(r.responses.map((x) => [x.status, x.body]), [[200, "hello"], [200, "hello"]], `PRONGHORN_NO_DIRECT_HANDLE=${direct} ${where.join(" ")}`);
      } finally {
        await s.stop();
      }
    }
  }
});
