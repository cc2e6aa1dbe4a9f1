// Memory under load, black-box: the worker's resident set (VmRSS from /proc/PID/status) is sampled
// while 1 GiB goes up through request.body and 1 GiB comes down from a response stream, and must
// stay flat; --max-body-size holds while a body streams in with no Content-Length; thousands of
// idle keep-alive connections cost a bounded amount each and do not keep a new client waiting;
// thousands of partial heads are held in JS memory (never in the parser's fixed 16 MiB of wasm
// memory, which only holds one shared scratch copy of the head being parsed) and all complete.
// Each test prints its figures (node --test shows them as diagnostics). Linux only (/proc).
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { once } from "node:events";
import { spawnSync } from "node:child_process";
import {
  RUNTIME, startOneWorker, writeApp, rawExchange, splitResponses, addressOf, rssBytes, sleep,
} from "./harness.js";

const APP = String.raw`
const s = { received: 0, bodyError: "" };
export default {
  async fetch(request) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/stats": return Response.json(s);
      case "/count": {
        let n = 0;
        s.bodyError = "";
        try {
          for await (const chunk of request.body) { n += chunk.length; s.received = n; }
        } catch (e) {
          s.bodyError = String(e?.message ?? e);
        }
        return new Response(String(n));
      }
      case "/download": {
        const total = Number(url.searchParams.get("bytes"));
        let sent = 0;
        return new Response(new ReadableStream({
          pull(c) {
            if (sent >= total) return c.close();
            const n = Math.min(65536, total - sent);
            sent += n;
            c.enqueue(new Uint8Array(n));
          },
        }, { highWaterMark: 0 }));
      }
      default: return new Response("ok");
    }
  },
};
`;

const H = "Host: t\r\n";
const MiB = 1048576;
const GiB = 1024 * MiB;
const appFile = writeApp(APP, "memory.mjs");
const mib = (n) => (n / MiB).toFixed(1);

const start = (extra = []) => startOneWorker(appFile, extra);

/** Sample the worker's RSS every 50 ms while `work()` runs; resolves { result, max, first, second }
 *  (first, second: the largest sample in each half of the run). */
async function sampled(pid, work) {
  const samples = [rssBytes(pid)];
  const timer = setInterval(() => samples.push(rssBytes(pid)), 50);
  try {
    const result = await work();
    samples.push(rssBytes(pid));
    const half = samples.length >> 1;
    return { result, max: Math.max(...samples), first: Math.max(...samples.slice(0, half)), second: Math.max(...samples.slice(half)) };
  } finally {
    clearInterval(timer);
  }
}

/** RSS must not climb with the bytes moved: bounded over the baseline, and no higher in the
 *  second half of the transfer than in the first (beyond the collector's sawtooth). */
function assertFlat(run, base, what) {
  assert.ok(run.max - base < RSS_GROWTH_BOUND, `${what}: RSS grew ${mib(run.max - base)} MiB`);
  assert.ok(run.second - run.first < 96 * MiB, `${what}: RSS rose ${mib(run.second - run.first)} MiB from the first half to the second`);
}

/** POST `total` bytes to /count (Content-Length, or chunked in 64 KiB chunks); resolves the app's count. */
async function upload(srv, total, { chunked = false } = {}) {
  const s = net.connect(addressOf(srv));
  await once(s, "connect");
  let text = "";
  s.on("data", (d) => { text += d.toString("latin1"); });
  s.on("error", () => {});
  const closed = once(s, "close");
  s.write(`POST /count HTTP/1.1\r\n${H}Connection: close\r\n${chunked ? "Transfer-Encoding: chunked" : `Content-Length: ${total}`}\r\n\r\n`);
  const piece = Buffer.alloc(65536, 0x61);
  const framed = Buffer.concat([Buffer.from("10000\r\n"), piece, Buffer.from("\r\n")]);
  for (let sent = 0; sent < total && !s.destroyed; sent += piece.length) {
    if (!s.write(chunked ? framed : piece)) await Promise.race([once(s, "drain"), closed]);
  }
  if (chunked && !s.destroyed) s.write("0\r\n\r\n");
  await closed;
  return { text, response: splitResponses(text)[0] };
}

/** GET /download?bytes=total and count what arrives; resolves the byte count after the head. */
async function download(srv, total) {
  const s = net.connect(addressOf(srv));
  await once(s, "connect");
  let n = 0;
  let head = "";
  s.on("data", (d) => {
    if (head.length < 4 || !head.includes("\r\n\r\n")) {
      head += d.toString("latin1");
      const end = head.indexOf("\r\n\r\n");
      if (end >= 0) n += head.length - end - 4;
    } else n += d.length;
  });
  s.on("error", () => {});
  s.write(`GET /download?bytes=${total} HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
  await once(s, "close");
  return { head, n };
}

// Bounds from measurement (the figures each test prints), with room for a busy CI machine. The
// growth is garbage awaiting collection (the app's own 64 KiB chunks, external memory that V8
// collects in steps), a sawtooth that does not climb with the bytes moved: on Node 26 a 4 GiB
// download peaked 89 to 143 MiB over its start, a 1 GiB one 43 to 142 MiB over 20 runs (the
// highest on a quiet machine, where the app outruns the collector). Other maxima: Node 20
// +20 MiB, Deno +42 MiB, Bun +97 MiB. A leak of even a fifth of the bytes moved is past the bound.
const RSS_GROWTH_BOUND = 192 * MiB;

test("a 1 GiB upload read through request.body keeps the worker's RSS flat", async (t) => {
  const srv = await start();
  try {
    await upload(srv, 64 * MiB); // warm up (JIT, buffers), then the baseline
    await upload(srv, 16 * MiB, { chunked: true });
    await sleep(200);
    const base = rssBytes(srv.worker);
    const t0 = performance.now();
    const run = await sampled(srv.worker, () => upload(srv, GiB));
    const { result, max } = run;
    const secs = (performance.now() - t0) / 1000;
    assert.equal(result.response.status, 200);
    assert.equal(result.response.body, String(GiB));
    const t1 = performance.now();
    const chunked = await sampled(srv.worker, () => upload(srv, 256 * MiB, { chunked: true }));
    const secs2 = (performance.now() - t1) / 1000;
    assert.equal(chunked.result.response.body, String(256 * MiB));
    t.diagnostic(`${RUNTIME}: 1 GiB upload (Content-Length) in ${secs.toFixed(1)} s: worker RSS ${mib(base)} MiB before, max ${mib(max)} MiB (+${mib(max - base)}); ` +
      `256 MiB chunked in ${secs2.toFixed(1)} s: max ${mib(chunked.max)} MiB (+${mib(chunked.max - base)})`);
    assertFlat(run, base, "Content-Length upload");
    assertFlat(chunked, base, "chunked upload");
  } finally {
    assert.equal((await srv.stop()).code, 0);
  }
});

// Known, not yet understood: with the net.Socket fallback forced (PRONGHORN_NO_DIRECT_HANDLE=1,
// the test runner's Node 24 pass), about one run in ten ends with the worker idle, holding no TCP
// socket, and not finishing its graceful stop after this download. The default direct path does
// not show it (0 in 6 runs on Node 24).
const fallbackStopHang = process.env.PRONGHORN_NO_DIRECT_HANDLE === "1" &&
  "with the net.Socket fallback forced the worker sometimes does not finish its graceful stop after this download (known, not yet fixed)";
test("a 1 GiB streamed download keeps the worker's RSS flat", { skip: fallbackStopHang }, async (t) => {
  const srv = await start();
  try {
    await download(srv, 64 * MiB); // warm up
    await sleep(200);
    const base = rssBytes(srv.worker);
    const t0 = performance.now();
    const run = await sampled(srv.worker, () => download(srv, GiB));
    const { result, max } = run;
    const secs = (performance.now() - t0) / 1000;
    assert.match(result.head, /^HTTP\/1\.1 200 [^]*transfer-encoding: chunked\r\n/);
    // chunked framing: 16384 chunks of 64 KiB, each "10000\r\n" + data + "\r\n", then "0\r\n\r\n"
    assert.equal(result.n, GiB + (GiB / 65536) * 9 + 5);
    t.diagnostic(`${RUNTIME}: 1 GiB download in ${secs.toFixed(1)} s: worker RSS ${mib(base)} MiB before, max ${mib(max)} MiB (+${mib(max - base)})`);
    assertFlat(run, base, "download");
  } finally {
    assert.equal((await srv.stop()).code, 0);
  }
});

test("--max-body-size holds while a chunked body with no Content-Length streams in: 413, the app's stream errors, the connection closes", async () => {
  const LIMIT = MiB;
  const srv = await start(["--max-body-size", String(LIMIT)]);
  try {
    const r = await upload(srv, 16 * MiB, { chunked: true });
    assert.equal(r.response.status, 413);
    assert.match(r.response.headers.connection?.[0] ?? "", /close/);
    const stats = JSON.parse(splitResponses((await rawExchange(srv, `GET /stats HTTP/1.1\r\n${H}Connection: close\r\n\r\n`)).text)[0].body);
    assert.ok(stats.received <= LIMIT, `the app got ${stats.received} bytes, the limit is ${LIMIT}`);
    assert.match(stats.bodyError, /request body over 1048576 bytes/);
    // A declared Content-Length over the limit is refused before any of it is read.
    const cl = await rawExchange(srv, `POST /count HTTP/1.1\r\n${H}Content-Length: ${LIMIT + 1}\r\n\r\n`);
    assert.match(cl.text, /^HTTP\/1\.1 413 /);
    assert.ok(cl.closed);
  } finally {
    assert.equal((await srv.stop()).code, 0);
  }
});

/** How many connections this test may open: its fds and the worker's come from the same limit. */
function connectionBudget(want) {
  const r = spawnSync("sh", ["-c", "ulimit -n"], { encoding: "utf8" });
  const limit = Number(r.stdout.trim()) || 1024;
  return Math.max(100, Math.min(want, limit - 200));
}

/** Open n connections, 200 at a time; each sends `first` (if any) and is kept. */
async function openMany(srv, n, first) {
  const socks = [];
  for (let i = 0; i < n; i += 200) {
    const batch = await Promise.all(Array.from({ length: Math.min(200, n - i) }, async () => {
      const s = net.connect(addressOf(srv));
      s.on("error", () => {});
      s.text = "";
      s.on("data", (d) => { s.text += d.toString("latin1"); });
      await once(s, "connect");
      if (first) s.write(first);
      return s;
    }));
    socks.push(...batch);
  }
  return socks;
}

async function waitAll(socks, re, timeoutMs = 20000) {
  const end = Date.now() + timeoutMs;
  while (socks.some((s) => !re.test(s.text))) {
    assert.ok(Date.now() < end, `${socks.filter((s) => !re.test(s.text)).length} of ${socks.length} connections without ${re}`);
    await sleep(20);
  }
}

async function quickRequest(srv) {
  const t0 = performance.now();
  const r = await rawExchange(srv, `GET /new HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
  assert.match(r.text, /^HTTP\/1\.1 200 [^]*ok$/);
  return performance.now() - t0;
}

test("thousands of idle keep-alive connections cost bounded memory each and do not keep a new client waiting", async (t) => {
  const N = connectionBudget(4000);
  const srv = await start(["--keepalive-timeout", "60"]);
  try {
    const warm = await openMany(srv, 200, `GET / HTTP/1.1\r\n${H}\r\n`);
    await waitAll(warm, /\r\n\r\nok$/);
    for (const s of warm) s.destroy();
    await sleep(300);
    const base = rssBytes(srv.worker);
    const socks = await openMany(srv, N, `GET / HTTP/1.1\r\n${H}\r\n`);
    await waitAll(socks, /\r\n\r\nok$/);
    await sleep(300);
    const held = rssBytes(srv.worker);
    const latency = await quickRequest(srv);
    // They are all still open and usable.
    assert.equal(socks.filter((s) => s.destroyed || s.readableEnded).length, 0, "none was closed");
    const some = socks.slice(0, 100);
    for (const s of some) { s.text = ""; s.write(`GET /again HTTP/1.1\r\n${H}\r\n`); }
    await waitAll(some, /\r\n\r\nok$/);
    const per = (held - base) / N;
    t.diagnostic(`${RUNTIME}: ${N} idle keep-alive connections: worker RSS ${mib(base)} -> ${mib(held)} MiB, ${(per / 1024).toFixed(1)} KiB per connection; a new client served in ${latency.toFixed(1)} ms`);
    for (const s of socks) s.destroy();
    assert.ok(per < 32 * 1024, `${per} bytes per idle connection`);
    assert.ok(latency < 1000, `the new client waited ${latency.toFixed(1)} ms`);
  } finally {
    assert.equal((await srv.stop()).code, 0);
  }
});

test("thousands of partial heads of 4 KiB are held in JS memory, not the parser's fixed wasm memory: a new client is served meanwhile and every head completes", async (t) => {
  const N = connectionBudget(3000);
  const srv = await start(["--header-timeout", "30"]);
  try {
    await quickRequest(srv);
    await sleep(200);
    const base = rssBytes(srv.worker);
    const partial = `GET /partial HTTP/1.1\r\n${H}X-Pad: ${"p".repeat(4096)}\r\n`;
    const socks = await openMany(srv, N, partial);
    await sleep(500);
    const held = rssBytes(srv.worker);
    const latency = await quickRequest(srv);
    // Half of them also start a chunked body (each holds a decoder's few bytes of wasm memory).
    const [chunked, plain] = [socks.slice(0, N >> 1), socks.slice(N >> 1)];
    for (const s of chunked) s.write(`Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n`);
    await sleep(300);
    const latency2 = await quickRequest(srv);
    for (const s of chunked) s.write("0\r\n\r\n");
    for (const s of plain) s.write("\r\n");
    await waitAll(socks, /\r\n\r\nok$/);
    const per = (held - base) / N;
    t.diagnostic(`${RUNTIME}: ${N} partial heads of ${partial.length} bytes: worker RSS ${mib(base)} -> ${mib(held)} MiB, ${(per / 1024).toFixed(1)} KiB per connection; ` +
      `a new client served in ${latency.toFixed(1)} ms, ${latency2.toFixed(1)} ms with ${chunked.length} chunked bodies open; all answered`);
    for (const s of socks) s.destroy();
    assert.ok(latency < 1000 && latency2 < 1000, `the new client waited ${latency.toFixed(1)} / ${latency2.toFixed(1)} ms`);
    assert.ok(per < 64 * 1024, `${per} bytes per partial head`);
  } finally {
    assert.equal((await srv.stop()).code, 0);
  }
});
