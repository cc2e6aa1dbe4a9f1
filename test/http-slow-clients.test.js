// Slow and vanishing clients, black-box over raw sockets: heads dribbled byte by byte (slowloris)
// get 408 at --header-timeout while other clients are served meanwhile; a body that stops coming
// gets 408 at --timeout; a client that stops reading a response that never ends stops the app's
// stream (backpressure reaches its pull()) and is cut off at --timeout with the app's stream
// cancelled; clients that go away mid-request abort request.signal, cancel the response stream,
// fail the request body, and leave nothing behind in the worker (its sockets and its memory).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  RUNTIME, startOneWorker, writeApp, rawExchange, splitResponses, rssBytes, tcpConnectionCount, sleep, until, connect,
} from "./harness.js";

const APP = String.raw`
const s = { pulls: 0, produced: 0, cancels: 0, aborts: 0, bodyErrors: 0, lastBodyError: "", uploaded: 0 };
export default {
  async fetch(request) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/stats": return Response.json({ ...s, heapUsed: process.memoryUsage().heapUsed });
      case "/stream": {
        request.signal.addEventListener("abort", () => s.aborts++);
        return new Response(new ReadableStream({
          pull(c) { s.pulls++; s.produced += 65536; c.enqueue(new Uint8Array(65536)); },
          cancel() { s.cancels++; },
        }, { highWaterMark: 0 }));
      }
      case "/wait-abort": {
        await new Promise((r) => request.signal.addEventListener("abort", r));
        s.aborts++;
        return new Response("late");
      }
      case "/upload": {
        let n = 0;
        try {
          for await (const chunk of request.body) n += chunk.length;
        } catch (e) {
          s.bodyErrors++;
          s.lastBodyError = String(e?.message ?? e);
        }
        s.uploaded += n;
        return new Response(String(n));
      }
      case "/echo-stream": return new Response(request.body);
      default: return new Response("ok " + url.pathname);
    }
  },
};
`;

const H = "Host: t\r\n";
const appFile = writeApp(APP, "slow-clients.mjs");

const start = (extra = []) => startOneWorker(appFile, extra);

async function stats(srv) {
  const r = await rawExchange(srv, `GET /stats HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
  return JSON.parse(splitResponses(r.text)[0].body);
}

/** One request on a new connection; resolves its latency in ms. */
async function timedRequest(srv) {
  const t0 = performance.now();
  const r = await rawExchange(srv, `GET /quick HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, { timeoutMs: 5000 });
  assert.match(r.text, /^HTTP\/1\.1 200 [^]*ok \/quick$/);
  return performance.now() - t0;
}

let server;
before(async () => {
  server = await start(["--header-timeout", "1.5", "--timeout", "1.5"]);
});
after(async () => {
  assert.equal((await server.stop()).code, 0);
});

test("slowloris: heads dribbled a byte every 200 ms get 408 and close at --header-timeout, and other clients are served promptly meanwhile", async (t) => {
  const N = 100;
  const t0 = Date.now();
  const slow = await Promise.all(Array.from({ length: N }, () => connect(server)));
  let dribbling = true;
  const head = `GET /slow HTTP/1.1\r\n${H}X-Pad: ${"a".repeat(100)}\r\n\r\n`; // ~26 s at 5 bytes/s
  const dribblers = slow.map(async (c) => {
    for (let i = 0; i < head.length && dribbling && !c.closed; i++) {
      c.s.write(head[i]);
      await sleep(200);
    }
  });
  const latencies = [];
  while (slow.some((c) => !c.closed) && Date.now() - t0 < 6000) {
    latencies.push(await timedRequest(server));
    await sleep(20);
  }
  dribbling = false;
  await Promise.all(dribblers);
  const closedAfter = slow.map((c) => c.closedAt - t0);
  const max = Math.max(...latencies);
  t.diagnostic(`${RUNTIME}: ${N} slowloris connections closed after ${Math.min(...closedAfter)}-${Math.max(...closedAfter)} ms; ` +
    `${latencies.length} other requests meanwhile, latency max ${max.toFixed(1)} ms, median ${latencies.sort((a, b) => a - b)[latencies.length >> 1].toFixed(1)} ms`);
  for (const c of slow) {
    assert.ok(c.closed, "closed");
    assert.match(c.text, /^HTTP\/1\.1 408 /);
    assert.ok(c.closedAt - t0 >= 1400 && c.closedAt - t0 < 3500, `closed after ${c.closedAt - t0} ms, --header-timeout is 1.5 s`);
  }
  assert.ok(latencies.length >= 10, `${latencies.length} requests served meanwhile`);
  assert.ok(max < 500, `a concurrent client waited ${max.toFixed(1)} ms`);
});

test("a request body that stops coming gets 408 at --timeout, the app's body stream errors, and the connection closes", async () => {
  const before = await stats(server);
  const c = await connect(server);
  const t0 = Date.now();
  c.s.write(`POST /upload HTTP/1.1\r\n${H}Content-Length: 100000\r\n\r\n${"x".repeat(1000)}`);
  await c.done;
  const took = Date.now() - t0;
  assert.match(c.text, /^HTTP\/1\.1 408 /);
  assert.ok(took >= 1400 && took < 3500, `closed after ${took} ms, --timeout is 1.5 s`);
  const now = await stats(server);
  assert.equal(now.bodyErrors, before.bodyErrors + 1, "the app's request.body errored");
  assert.equal(now.uploaded - before.uploaded, 1000);
  assert.match(server.output(), /408: no request body bytes for 1500 ms/);
});

test("a request body that stops coming while its echo streams out: at --timeout the response is cut (reset), and the log says the body stalled", async () => {
  const c = await connect(server);
  const t0 = Date.now();
  c.s.write(`POST /echo-stream HTTP/1.1\r\n${H}Content-Length: 100000\r\n\r\n${"x".repeat(1000)}`);
  await c.done;
  const took = Date.now() - t0;
  assert.match(c.text, /^HTTP\/1\.1 200 [^]*transfer-encoding: chunked\r\n(?:connection: close\r\n)?\r\n3e8\r\nx{1000}\r\n$/, "the echo so far, never the last chunk");
  assert.ok(took >= 1400 && took < 3500, `cut after ${took} ms, --timeout is 1.5 s`);
  assert.match(server.output(), /408: no request body bytes for 1500 ms from [^\n]* for POST \/echo-stream; its response was cut/);
  assert.doesNotMatch(server.output(), /response body stream failed/);
});

test("a body dribbled a byte every 300 ms is within --timeout (it bounds each wait for a read), and is served", async () => {
  const c = await connect(server);
  c.s.write(`POST /upload HTTP/1.1\r\n${H}Content-Length: 8\r\nConnection: close\r\n\r\n`);
  for (let i = 0; i < 8; i++) {
    await sleep(300);
    c.s.write("y");
  }
  await c.done;
  assert.match(c.text, /^HTTP\/1\.1 200 [^]*\r\n\r\n8$/);
});

test("a client that reads nothing of an endless response: the app's pull() stops (backpressure), memory stays flat, and at --timeout the socket is reset and the stream cancelled", async (t) => {
  const srv = await start(["--timeout", "2"]);
  try {
    await stats(srv); // warm up
    await sleep(300);
    const sockets0 = tcpConnectionCount(srv.worker);
    const rss0 = rssBytes(srv.worker);
    const c = await connect(srv, { read: false, keepText: 4096 }); // it resumes, to MiBs, at the end
    c.s.write(`GET /stream HTTP/1.1\r\n${H}\r\n`);
    const t0 = Date.now();
    // The kernel's buffers fill (send buffer and the client's receive buffer), then the pulls stop.
    let last = -1;
    let s;
    for (;;) {
      await sleep(400);
      s = await stats(srv);
      if (s.pulls === last) break;
      last = s.pulls;
      assert.ok(Date.now() - t0 < 1800, "the pulls stopped before --timeout");
    }
    const stalled = s.produced;
    const rssStalled = rssBytes(srv.worker);
    await until(() => tcpConnectionCount(srv.worker) === sockets0 + 1, "the connection is open while the write waits (and no other)", 1000);
    await until(() => Date.now() - t0 > 1500, "");
    assert.equal((await stats(srv)).produced, stalled, "no pull while the client reads nothing");
    // --timeout 2 (plus a sweeper tick): the worker lets go of the socket, the stream is cancelled.
    await until(() => tcpConnectionCount(srv.worker) === sockets0, "the worker closed the socket", 4000);
    const gone = Date.now() - t0;
    const after = await until(async () => { const a = await stats(srv); return a.cancels === 1 && a; }, "the app's stream cancelled");
    assert.equal(after.aborts, 1, "request.signal aborted");
    assert.ok(gone >= 1900 && gone < 4500, `closed ${gone} ms after the request, --timeout is 2 s`);
    // The client sees the response cut: a reset, or an end before the body was whole (it never is).
    c.s.resume();
    await Promise.race([c.done, sleep(3000)]);
    assert.ok(c.closed, "the client's socket ended");
    t.diagnostic(`${RUNTIME}: app produced ${(stalled / 1048576).toFixed(1)} MiB before the pulls stopped, ` +
      `worker RSS +${((rssStalled - rss0) / 1048576).toFixed(1)} MiB, socket gone after ${gone} ms, client's socket ended (${c.error ?? "no error"}) after reading ${(c.bytes / 1048576).toFixed(1)} MiB`);
    assert.ok(stalled < 48 * 1048576, `the app produced ${stalled} bytes for a client that read nothing`);
    assert.ok(rssStalled - rss0 < 64 * 1048576, `worker RSS grew ${rssStalled - rss0} bytes`);
    assert.doesNotMatch(srv.output(), /stream failed/);
  } finally {
    assert.equal((await srv.stop()).code, 0);
  }
});

test("clients that go away mid-request, again and again: request.signal aborts, the response stream is cancelled, the request body errors, and the worker keeps no socket and no memory", async (t) => {
  const srv = await start();
  try {
    await stats(srv);
    await sleep(300);
    const sockets0 = tcpConnectionCount(srv.worker);
    const round = async () => {
      const a = await connect(srv); // a response stream, cut after its first bytes
      a.s.write(`GET /stream HTTP/1.1\r\n${H}\r\n`);
      await until(() => a.bytes > 0, "response bytes");
      a.s.destroy();
      const b = await connect(srv); // the app waits on request.signal
      b.s.write(`GET /wait-abort HTTP/1.1\r\n${H}\r\n`);
      const c = await connect(srv); // a request body cut short
      c.s.write(`POST /upload HTTP/1.1\r\n${H}Content-Length: 1000000\r\n\r\n${"z".repeat(100000)}`);
      const d = await connect(srv); // a request body cut short while it is echoed
      d.s.write(`POST /echo-stream HTTP/1.1\r\n${H}Content-Length: 1000000\r\n\r\n${"e".repeat(100000)}`);
      await until(() => d.bytes > 0, "echoed bytes");
      await sleep(10);
      b.s.destroy();
      c.s.destroy();
      d.s.destroy();
    };
    // Garbage (the bodies, the streams) is collected when the engine gets to it: RSS climbs to a
    // plateau (Deno: ~+80 MiB by 600 rounds, then flat) and says little. What must not grow is
    // what stays reachable: the worker's TCP sockets, and its JS heap after a round of rounds.
    const ROUNDS = 120;
    const mem = [];
    for (let i = 0; i < ROUNDS; i++) {
      await round();
      if (i % 40 === 39) {
        await until(() => tcpConnectionCount(srv.worker) === sockets0, "the worker holds no socket of theirs");
        mem.push({ rss: rssBytes(srv.worker), heap: (await stats(srv)).heapUsed });
      }
    }
    const s = await until(async () => { const v = await stats(srv); return v.cancels === ROUNDS && v.aborts >= 2 * ROUNDS && v.bodyErrors === ROUNDS && v; }, "every abort seen", 5000);
    t.diagnostic(`${RUNTIME}: ${ROUNDS} rounds of 4 vanishing clients; after each 40: worker RSS ${mem.map((m) => (m.rss / 1048576).toFixed(1)).join(", ")} MiB, ` +
      `JS heap used ${mem.map((m) => (m.heap / 1048576).toFixed(1)).join(", ")} MiB; last body error: ${s.lastBodyError}`);
    assert.equal(s.aborts, 2 * ROUNDS);
    assert.ok(mem[2].heap - mem[0].heap < 16 * 1048576, `JS heap grew ${mem[2].heap - mem[0].heap} bytes over 80 rounds`);
    assert.ok(mem[2].rss - mem[0].rss < 96 * 1048576, `worker RSS grew ${mem[2].rss - mem[0].rss} bytes over 80 rounds`);
    const out = srv.output();
    assert.doesNotMatch(out, /response body stream failed/, "a request body cut short is not the response's failure");
    // What is logged says what happened: the client's request body ended early.
    assert.match(out, /pronghorn: request body incomplete at end of input from [^\n]* for POST \/echo-stream; its response was cut/);
  } finally {
    assert.equal((await srv.stop()).code, 0);
  }
});
