// A black-box request fuzzer for the HTTP/1.1 core, shared by test/http-fuzz.test.js (CI: bounded,
// seeded) and scripts/fuzz.mjs (long runs). It generates connections from a corpus of valid and
// invalid requests, mutates their bytes (flips to interesting bytes, inserted/deleted bytes and
// lines, changed numbers, header-name case, whitespace, line-end swaps, truncation), delivers them
// in pieces with small delays, and checks invariants against a real server (one worker):
//
//   (a) the worker stays up: every app response and log query names the same worker pid, and the
//       supervisor logs no worker exit;
//   (b) every byte received parses as HTTP/1.1 responses (status line, header lines, framing by
//       Content-Length, chunked or close), with 1xx only before the answer to an Expect request;
//   (c) after an error response (4xx/5xx: the app only ever answers 200) nothing more is sent and
//       the connection closes, and so does it after any response with `connection: close`;
//   (d) the app sees no request the framing rules forbid: a strict reference parser (model())
//       computes, for the bytes sent, the longest sequence of requests that may be dispatched, each
//       with its method, the tags in its target and its exact body; what the app recorded for the
//       connection must be a prefix of it (fewer is fine: the server may reject earlier);
//   (e) no hang: the server closes every connection within the configured timeouts plus slack
//       after the client's last byte.
//
// The model is strict where a lenient reading could change framing (bare CR is never a line end,
// a field line must be `token ":" value`, Content-Length must be digits, Transfer-Encoding must
// end in one chunked, obs-fold unfolds) and lenient only where RFC 9112 lets a recipient be (a
// bare LF ends a line, whitespace runs separate request-line words, empty lines before a request
// line are skipped, obs-fold is unfolded); where it is unsure whether a request is valid it allows
// the request to be dispatched exactly as framed or rejected, never dispatched differently.
import net from "node:net";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { once } from "node:events";
import { startServer, writeApp, addressOf, RUNTIME } from "../harness.js";

// ---------------------------------------------------------------------------------------------
// configuration and the app
// ---------------------------------------------------------------------------------------------

export const LIMITS = {
  headerTimeout: 1.5, // s
  timeout: 1.5, // s
  keepaliveTimeout: 1, // s
  maxBodySize: 4096,
  maxHeaderSize: 4096,
};

/** Seconds past the longest configured timeout a connection may take to close (sweeper tick, load). */
const CLOSE_SLACK_MS = 3000;

export function serverArgs(appPath, limits = LIMITS) {
  return ["--workers", "1", "--host", "127.0.0.1", "--port", "0", "-E", "production",
    "--header-timeout", String(limits.headerTimeout), "--timeout", String(limits.timeout),
    "--keepalive-timeout", String(limits.keepaliveTimeout), "--max-body-size", String(limits.maxBodySize),
    "--max-header-size", String(limits.maxHeaderSize), appPath];
}

// The app records what it sees per connection (keyed by the peer's port; one group per
// connection, told apart by the per-connection info object) and answers 200 with its record
// number and the worker pid. `/n/` in the URL: answer without reading the body (the server skips
// it); `/s/`: answer with a stream (chunked, or close-delimited for HTTP/1.0).
// GET /__fuzz_log?port=P&before=T hands out (and forgets) the oldest group of port P that began
// before T (ms since the epoch), so a port the kernel reuses cannot mix two connections.
export const APP_SOURCE = String.raw`
const logs = new Map();
const conns = new WeakMap();
let nextConn = 1;
function fnv(bytes) {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) { h ^= bytes[i]; h = Math.imul(h, 0x01000193) >>> 0; }
  return h;
}
export default {
  async fetch(request, info) {
    const url = request.url;
    const pid = info.worker.pid;
    if (url.includes("/__fuzz_log?")) {
      const q = new URL(url).searchParams;
      const groups = logs.get(Number(q.get("port"))) ?? [];
      const i = groups.findIndex((g) => g.t0 <= Number(q.get("before")));
      const g = i < 0 ? null : groups.splice(i, 1)[0];
      if (groups.length === 0) logs.delete(Number(q.get("port")));
      return Response.json({ pid, records: g ? g.records : [] });
    }
    const port = info.remoteAddr.port;
    let conn = conns.get(info);
    let groups = logs.get(port);
    if (!groups) logs.set(port, groups = []);
    let g = conn === undefined ? undefined : groups.find((x) => x.conn === conn);
    if (g === undefined) {
      if (conn === undefined) conns.set(info, conn = nextConn++);
      groups.push(g = { conn, t0: Date.now(), records: [] });
    }
    const rec = { seq: g.records.length, method: request.method, url };
    g.records.push(rec);
    const headers = { "x-fuzz-seq": String(rec.seq), "x-fuzz-pid": String(pid) };
    if (url.includes("/n/")) {
      rec.body = "unread";
      return new Response("ok " + rec.seq, { headers });
    }
    try {
      const b = new Uint8Array(await request.arrayBuffer());
      rec.body = { len: b.length, hash: fnv(b) };
    } catch (e) {
      rec.body = "error";
    }
    if (url.includes("/s/")) {
      const text = new TextEncoder().encode("stream " + rec.seq);
      return new Response(new ReadableStream({ start(c) { c.enqueue(text.subarray(0, 3)); c.enqueue(text.subarray(3)); c.close(); } }), { headers });
    }
    return new Response("ok " + rec.seq, { headers });
  },
};
`;

export function fnv(bytes) {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

// ---------------------------------------------------------------------------------------------
// randomness
// ---------------------------------------------------------------------------------------------

/** A small seeded PRNG (mulberry32) with helpers. */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r = {
    next,
    int: (n) => Math.floor(next() * n),
    range: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    weighted: (pairs) => {
      let total = 0;
      for (const [w] of pairs) total += w;
      let x = next() * total;
      for (const [w, v] of pairs) if ((x -= w) < 0) return v;
      return pairs[pairs.length - 1][1];
    },
  };
  return r;
}

/** The seed of case `index` of a run seeded `seed`. */
export function caseSeed(seed, index) {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// the corpus: request generators
// ---------------------------------------------------------------------------------------------

const TAG_RE = /Q[0-9a-f]{8}Q/g;
const HOST = "fuzz.test";

function tag(r) {
  let s = "";
  for (let i = 0; i < 8; i++) s += "0123456789abcdef"[r.int(16)];
  return `Q${s}Q`;
}

function bodyBytes(r, n) {
  const kind = r.int(4);
  let s = "";
  for (let i = 0; i < n; i++) {
    if (kind === 0) s += String.fromCharCode(r.range(0, 255));
    else if (kind === 1) s += "abcdefghij\r\n"[r.int(12)];
    else s += String.fromCharCode(r.range(0x61, 0x7a));
  }
  return s;
}

function path_(r, variant, t) {
  const q = r.chance(0.2) ? r.pick(["?a=1", "?a=b&c=d", "?x=%20y", "?", "?q=" + tag(r).toLowerCase()]) : "";
  return `/${variant}/${t}${r.chance(0.2) ? "/x" : ""}${q}`;
}

function extraHeaders(r) {
  let s = "";
  const n = r.int(4);
  for (let i = 0; i < n; i++) {
    s += r.pick([
      "User-Agent: fuzz/1.0\r\n",
      "Accept: */*\r\n",
      `X-Pad: ${"p".repeat(r.int(200))}\r\n`,
      "Cookie: a=b; c=d\r\n",
      "X-List: a, b,c\r\n",
      "Accept-Encoding: gzip, deflate\r\n",
      "X-Empty:\r\n",
      "X-Obs-Text: caf\xe9\r\n",
    ]);
  }
  return s;
}

function chunkedBody(r, data, { ext = false, trailer = false } = {}) {
  let s = "";
  let i = 0;
  while (i < data.length) {
    const n = Math.min(data.length - i, r.range(1, 1 + r.int(400)));
    let size = n.toString(16);
    if (r.chance(0.3)) size = size.toUpperCase();
    if (r.chance(0.1)) size = "0" + size;
    s += size + (ext && r.chance(0.5) ? r.pick([";a=b", ";a", ";a=\"q v\"", " ;a=b", ";a=b;c"]) : "") + "\r\n" + data.slice(i, i + n) + "\r\n";
    i += n;
  }
  s += "0" + (ext && r.chance(0.3) ? ";end=1" : "") + "\r\n";
  if (trailer) s += r.pick(["X-T: 1\r\n", "X-T: 1\r\nX-U: 2\r\n", "Content-Length: 50\r\n"]);
  return s + "\r\n";
}

/**
 * One request of the corpus: { text (latin1), valid (strictly valid, served when alone within the
 * limits), last (closes the connection), live (the server must serve it, and what follows it) }.
 */
function genRequest(r) {
  const t = tag(r);
  const variant = r.weighted([[6, "r"], [2, "n"], [2, "s"]]);
  const p = path_(r, variant, t);
  const host = `Host: ${r.pick([HOST, HOST + ":80", HOST + ":8080", "127.0.0.1", "[::1]:5000"])}\r\n`;
  const extra = extraHeaders(r);
  const kind = r.weighted([
    [10, "get"], [4, "head"], [8, "post-cl"], [8, "post-chunked"], [4, "expect"], [4, "http10"],
    [3, "absolute"], [2, "options"], [2, "close"], [3, "smuggle-cl"], [3, "smuggle-chunked"],
    [2, "lf-only"], [1, "leading-crlf"], [2, "limits"], [14, "invalid"],
  ]);
  const post = (framing, body, method = "POST") => `${method} ${p} HTTP/1.1\r\n${host}${extra}${framing}\r\n${body}`;
  switch (kind) {
    case "get": return { text: `GET ${p} HTTP/1.1\r\n${host}${extra}${r.chance(0.2) ? "Connection: keep-alive\r\n" : ""}\r\n`, valid: true };
    case "head": return { text: `HEAD ${p} HTTP/1.1\r\n${host}${extra}\r\n`, valid: true };
    case "post-cl": {
      const body = bodyBytes(r, r.weighted([[3, r.int(20)], [2, r.int(600)], [1, r.int(3000)]]));
      return { text: post(`Content-Length: ${body.length}\r\n`, body, r.pick(["POST", "PUT", "PATCH", "GET", "DELETE"])), valid: true };
    }
    case "post-chunked": {
      const body = bodyBytes(r, r.weighted([[2, 0], [3, r.int(30)], [2, r.int(800)], [1, r.int(3000)]]));
      return { text: post("Transfer-Encoding: chunked\r\n", chunkedBody(r, body, { ext: r.chance(0.4), trailer: r.chance(0.3) })), valid: true };
    }
    case "expect": {
      const body = bodyBytes(r, r.int(300));
      const chunked = r.chance(0.4);
      const framing = chunked ? "Transfer-Encoding: chunked\r\n" : `Content-Length: ${body.length}\r\n`;
      // A body the app does not read, behind Expect: the server may close instead of skipping it.
      return { text: post(`Expect: 100-continue\r\n${framing}`, chunked ? chunkedBody(r, body) : body), valid: true, live: variant !== "n" };
    }
    case "http10": {
      const ka = r.chance(0.7);
      const body = r.chance(0.4) ? bodyBytes(r, r.int(100)) : null;
      const text = `${body !== null ? "POST" : "GET"} ${p} HTTP/1.0\r\n${r.chance(0.5) ? host : ""}${extra}${ka ? "Connection: keep-alive\r\n" : ""}${body !== null ? `Content-Length: ${body.length}\r\n` : ""}\r\n${body ?? ""}`;
      // A stream answer to HTTP/1.0 is close-delimited, so it ends the connection.
      return { text, valid: true, last: !ka || variant === "s" };
    }
    case "absolute": return { text: `GET http://${HOST}${p} HTTP/1.1\r\n${host}${extra}\r\n`, valid: true };
    case "options": return { text: `OPTIONS * HTTP/1.1\r\n${host}${extra}\r\n`, valid: true };
    case "close": return { text: `GET ${p} HTTP/1.1\r\n${host}Connection: ${r.pick(["close", "Close", "keep-alive, close"])}\r\n${extra}\r\n`, valid: true, last: true };
    case "smuggle-cl": {
      const inner = `GET /r/${tag(r)} HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`;
      return { text: post(`Content-Length: ${inner.length}\r\n`, inner), valid: true };
    }
    case "smuggle-chunked": {
      const inner = `GET /r/${tag(r)} HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`;
      return { text: post("Transfer-Encoding: chunked\r\n", chunkedBody(r, inner)), valid: true };
    }
    case "lf-only": {
      const base = r.chance(0.5) ? `GET ${p} HTTP/1.1\r\n${host}${extra}\r\n` : post("Content-Length: 3\r\n", "abc");
      return { text: base.replace(/\r\n/g, "\n"), valid: false };
    }
    case "leading-crlf": return { text: `\r\nGET ${p} HTTP/1.1\r\n${host}\r\n`, valid: false };
    case "limits": {
      const which = r.int(4);
      if (which === 0) {
        const n = LIMITS.maxBodySize + r.range(-1, 1);
        return { text: post(`Content-Length: ${n}\r\n`, "b".repeat(n)), valid: false };
      }
      if (which === 1) {
        const n = LIMITS.maxBodySize + r.range(-1, 1);
        return { text: post("Transfer-Encoding: chunked\r\n", chunkedBody(r, "c".repeat(n))), valid: false };
      }
      if (which === 2) {
        const pad = LIMITS.maxHeaderSize - 40 - p.length + r.range(-8, 8);
        return { text: `GET ${p} HTTP/1.1\r\n${host}X: ${"h".repeat(Math.max(0, pad))}\r\n\r\n`, valid: false };
      }
      return { text: `GET ${p} HTTP/1.1\r\n${host}${"X: y\r\n".repeat(r.range(250, 260))}\r\n`, valid: false };
    }
    default: return genInvalid(r, p, host, extra);
  }
}

function genInvalid(r, p, host, extra) {
  const post = (framing, body) => `POST ${p} HTTP/1.1\r\n${host}${extra}${framing}\r\n${body}`;
  const inner = `GET /r/${tag(r)} HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`;
  const chunk = `${inner.length.toString(16)}\r\n${inner}\r\n0\r\n\r\n`;
  const text = r.pick([
    () => post(`Content-Length: ${inner.length}\r\nTransfer-Encoding: chunked\r\n`, chunk),
    () => post(`Transfer-Encoding: chunked\r\nContent-Length: ${chunk.length}\r\n`, chunk),
    () => post("Transfer-Encoding: chunked, identity\r\n", chunk),
    () => post("Transfer-Encoding: identity, chunked\r\n", chunk),
    () => post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", chunk),
    () => post("Transfer-Encoding: gzip\r\n", inner),
    () => post("Transfer-Encoding: \"chunked\"\r\n", chunk),
    () => post("Transfer-Encoding: chunked;q=1\r\n", chunk),
    () => post("Transfer-Encoding:\r\n chunked\r\n", chunk),
    () => post("Transfer-Encoding : chunked\r\n", chunk),
    () => post("Transfer-Encoding: \x0bchunked\r\n", chunk),
    () => post(`Content-Length: 3\r\nContent-Length: ${inner.length}\r\n`, "abc" + inner),
    () => post(`Content-Length: ${inner.length}, ${inner.length}\r\n`, inner),
    () => post("Content-Length: -1\r\n", inner),
    () => post("Content-Length: +3\r\n", "abc" + inner),
    () => post("Content-Length: 0x3\r\n", "abc" + inner),
    () => post("Content-Length: 3 3\r\n", "abc" + inner),
    () => post("Content-Length: 99999999999999999999\r\n", inner),
    () => post("Transfer-Encoding: chunked\r\n", `0x3\r\nabc\r\n0\r\n\r\n${inner}`),
    () => post("Transfer-Encoding: chunked\r\n", ` 3\r\nabc\r\n0\r\n\r\n${inner}`),
    () => post("Transfer-Encoding: chunked\r\n", `ffffffffffffffffff\r\nabc\r\n0\r\n\r\n${inner}`),
    () => post("Transfer-Encoding: chunked\r\n", `3;a="\r\n"\r\nabc\r\n0\r\n\r\n${inner}`),
    () => post("Transfer-Encoding: chunked\r\n", `3\r\nabcXX0\r\n\r\n${inner}`),
    () => post("Transfer-Encoding: chunked\r\n", `3\nabc\n0\n\n${inner}`),
    () => post("Transfer-Encoding: chunked\r\n", `3\rabc\r\n0\r\n\r\n${inner}`),
    () => post("Transfer-Encoding: chunked\r\n", `3\r\nabc\r\n0\r\n\r\r\n${inner}`),
    () => post("Transfer-Encoding: chunked\r\n", `5\r\nabc\r\n0\r\n\r\n${inner}`),
    () => post("Transfer-Encoding: chunked\r\n", `3;\x00\r\nabc\r\n0\r\n\r\n`),
    () => `GET ${p} HTTP/1.1\r\n${extra}\r\n`,
    () => `GET ${p} HTTP/1.1\r\n${host}${host}\r\n`,
    () => `GET ${p} HTTP/2.0\r\n${host}\r\n`,
    () => `GET ${p} http/1.1\r\n${host}\r\n`,
    () => `GET ${p} HTTP/1.10\r\n${host}\r\n`,
    () => `GET ${p} HTTP/1.1 \r\n${host}\r\n`,
    () => `GET  ${p}  HTTP/1.1\r\n${host}\r\n`,
    () => `GET\t${p} HTTP/1.1\r\n${host}\r\n`,
    () => `G(T ${p} HTTP/1.1\r\n${host}\r\n`,
    () => `${"M".repeat(r.range(20, 300))} ${p} HTTP/1.1\r\n${host}\r\n`,
    () => `GET ${p} HTTP/1.1\r\n${host}X-A: a\x00b\r\n\r\n`,
    () => `GET ${p} HTTP/1.1\r\n${host}X-A: a\x7fb\r\n\r\n`,
    () => `GET ${p} HTTP/1.1\r\n${host}X-A: a\rb\r\n\r\n`,
    () => `GET ${p} HTTP/1.1\r\n${host}X-\xe9: a\r\n\r\n`,
    () => `GET ${p} HTTP/1.1\r\n${host}NoColon\r\n\r\n`,
    () => `GET ${p} HTTP/1.1\r\n ${host}\r\n`,
    () => `GET ${p}\x80\xff HTTP/1.1\r\n${host}\r\n`,
    () => `GET /a\x00b HTTP/1.1\r\n${host}\r\n`,
    () => `GET * HTTP/1.1\r\n${host}\r\n`,
    () => `CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n`,
    () => `GET ${p}\r\n\r\n`,
    () => `GET http://a b/ HTTP/1.1\r\n${host}\r\n`,
    () => `GET ${p} HTTP/1.1\r\nHost: a@b\r\n\r\n`,
    () => `POST ${p} HTTP/1.1\r\n${host}Expect: 100-continue, foo\r\nContent-Length: 3\r\n\r\nabc`,
    () => `POST ${p} HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}`,
    () => post(`Content-Length: ${inner.length + 10}\r\n`, inner), // truncated body
    () => `GET ${p} HTTP/1.1\r\n${host}X: y`, // truncated head
  ])();
  return { text, valid: false };
}

/**
 * Case `index` of a run seeded `seed`: { seed, index, caseSeed, text (latin1 bytes sent),
 * mutations, plan: [{ at (byte offset), delay (ms before writing from it) }], fin, live }.
 */
export function generateCase(seed, index) {
  const cs = caseSeed(seed, index);
  const r = rng(cs);
  const n = r.weighted([[40, 1], [30, 2], [20, 3], [8, 5], [2, 12]]);
  const reqs = [];
  for (let i = 0; i < n; i++) reqs.push(genRequest(r));
  const bounds = [];
  let text = "";
  for (const q of reqs) {
    bounds.push(text.length);
    text += q.text;
  }
  const mutations = [];
  const nm = r.weighted([[30, 0], [35, 1], [20, 2], [10, 3], [5, 6]]);
  for (let i = 0; i < nm && text.length > 0; i++) {
    const m = mutate(r, text);
    text = m.text;
    mutations.push(m.what);
  }
  // Only a case the server must serve in full is "live": no mutation, valid requests, no close
  // before the last one.
  const live = mutations.length === 0 && reqs.every((q, i) => q.valid && q.live !== false && (!q.last || i === reqs.length - 1));
  const plan = deliveryPlan(r, text, mutations.length === 0 ? bounds : []);
  const fin = r.weighted([[60, "after"], [25, "none"], [15, "immediate"]]);
  return { seed, index, caseSeed: cs, text, mutations, plan: plan.pieces, planKind: plan.kind, fin: live && fin === "immediate" ? "after" : fin, live: live && plan.kind !== "slow" };
}

const INTERESTING = [" ", "\t", "\r", "\n", "\x00", "\x7f", "\x80", "\xff", ":", ";", ",", "\x0b", "\x0c", "\"", "0", "a", "-"];

/** A position, biased to structural bytes (CR, LF, SP, colon, digits) and their neighbours. */
function position(r, text) {
  if (r.chance(0.65)) {
    const hits = [];
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 13 || c === 10 || c === 32 || c === 58 || c === 59 || (c >= 48 && c <= 57)) hits.push(i);
      if (hits.length > 4000) break;
    }
    if (hits.length > 0) return Math.max(0, Math.min(text.length - 1, r.pick(hits) + r.range(-1, 1)));
  }
  return r.int(text.length);
}

function lineSpans(text) {
  const spans = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      spans.push([start, i + 1]);
      start = i + 1;
    }
  }
  if (start < text.length) spans.push([start, text.length]);
  return spans;
}

function mutate(r, text) {
  const kind = r.weighted([
    [20, "flip"], [10, "insert"], [8, "delete"], [6, "dup-line"], [5, "del-line"], [3, "swap-lines"],
    [12, "number"], [6, "case"], [10, "whitespace"], [8, "line-end"], [3, "truncate"], [4, "dup-span"],
  ]);
  const at = position(r, text);
  const esc = (s) => JSON.stringify(s);
  switch (kind) {
    case "flip": {
      const b = r.pick(INTERESTING);
      return { text: text.slice(0, at) + b + text.slice(at + 1), what: `flip ${at} ${esc(text[at])}->${esc(b)}` };
    }
    case "insert": {
      const b = r.pick([...INTERESTING, "\r\n", "\r\n\r\n", "\n\n"]);
      return { text: text.slice(0, at) + b + text.slice(at), what: `insert ${at} ${esc(b)}` };
    }
    case "delete": {
      const n = r.range(1, 3);
      return { text: text.slice(0, at) + text.slice(at + n), what: `delete ${at} ${esc(text.slice(at, at + n))}` };
    }
    case "dup-line": case "del-line": case "swap-lines": {
      const spans = lineSpans(text);
      const i = r.int(spans.length);
      const [a, b] = spans[i];
      if (kind === "dup-line") return { text: text.slice(0, b) + text.slice(a, b) + text.slice(b), what: `dup-line ${esc(text.slice(a, b))}` };
      if (kind === "del-line") return { text: text.slice(0, a) + text.slice(b), what: `del-line ${esc(text.slice(a, b))}` };
      if (i + 1 >= spans.length) return { text, what: "swap-lines (none)" };
      const [c, d] = spans[i + 1];
      return { text: text.slice(0, a) + text.slice(c, d) + text.slice(a, b) + text.slice(d), what: `swap-lines ${esc(text.slice(a, b))}` };
    }
    case "number": {
      const runs = [...text.matchAll(/(?<=^|[\s:;,])[0-9A-Fa-f]+(?=[\r\n;, ]|$)/gm)].filter((m) => m[0].length < 20);
      if (runs.length === 0) return { text, what: "number (none)" };
      const m = r.pick(runs);
      const v = parseInt(m[0], /[A-Fa-f]/.test(m[0]) ? 16 : 10) || 0;
      const nv = r.pick([String(v + 1), String(Math.max(0, v - 1)), "0", String(v * 2 + 7), `00${m[0]}`, (v + 1).toString(16),
        m[0].toUpperCase(), `-${m[0]}`, `+${m[0]}`, "ffffffffffffffff", "18446744073709551617", String(LIMITS.maxBodySize + 1), `${m[0]} `, `${m[0]}.0`, "1e3", ""]);
      return { text: text.slice(0, m.index) + nv + text.slice(m.index + m[0].length), what: `number ${m.index} ${esc(m[0])}->${esc(nv)}` };
    }
    case "case": {
      const names = [...text.matchAll(/^[A-Za-z-]+(?=:)/gm)];
      if (names.length === 0) return { text, what: "case (none)" };
      const m = r.pick(names);
      let s = "";
      for (const ch of m[0]) s += r.chance(0.5) ? ch.toUpperCase() : ch.toLowerCase();
      return { text: text.slice(0, m.index) + s + text.slice(m.index + s.length), what: `case ${esc(m[0])}->${esc(s)}` };
    }
    case "whitespace": {
      const ws = r.pick([" ", "\t", "  ", " \t"]);
      const where = r.int(4);
      let p = at;
      if (where === 0) { // before a colon
        const i = text.indexOf(":", at);
        if (i >= 0) p = i;
      } else if (where === 1) { // at a line start
        const i = text.indexOf("\n", at);
        if (i >= 0) p = i + 1;
      } else if (where === 2) { // before a line end
        const i = text.indexOf("\r\n", at);
        if (i >= 0) p = i;
      }
      return { text: text.slice(0, p) + ws + text.slice(p), what: `whitespace ${p} ${esc(ws)}` };
    }
    case "line-end": {
      const ends = [...text.matchAll(/\r\n/g)];
      if (ends.length === 0) return { text, what: "line-end (none)" };
      const m = r.pick(ends);
      const nv = r.pick(["\n", "\r", "\r\r\n", "\n\r", "\r\n\r\n", "", " \r\n", "\r\n "]);
      return { text: text.slice(0, m.index) + nv + text.slice(m.index + 2), what: `line-end ${m.index} ->${esc(nv)}` };
    }
    case "truncate": return { text: text.slice(0, at), what: `truncate ${at}` };
    case "dup-span": {
      const b = r.range(at, Math.min(text.length, at + r.range(1, 200)));
      return { text: text.slice(0, b) + text.slice(at, b) + text.slice(b), what: `dup-span ${at}..${b}` };
    }
  }
  return { text, what: "none" };
}

/** How the bytes go out: { kind, pieces: [{ at, delay }] } (each piece runs to the next `at`). */
function deliveryPlan(r, text, bounds) {
  const kind = r.weighted([[32, "whole"], [27, "pieces"], [10, "bytes"], [15, "requests"], [4, "slow"], [6, "split-crlf"], [6, "head-then-body"]]);
  const len = text.length;
  const pieces = [{ at: 0, delay: 0 }];
  const add = (at, delay) => {
    if (at > 0 && at < len && at > pieces[pieces.length - 1].at) pieces.push({ at, delay });
  };
  if (kind === "pieces") {
    const cuts = Array.from({ length: r.range(1, 6) }, () => r.int(len)).sort((a, b) => a - b);
    for (const c of cuts) add(c, r.pick([0, 0, 1, 2, 5, 10, 20]));
  } else if (kind === "bytes") {
    const step = len > 400 ? Math.ceil(len / 400) : 1;
    for (let i = step; i < len; i += step) add(i, r.chance(0.1) ? 1 : 0);
  } else if (kind === "requests") {
    for (const b of bounds) add(b, r.range(1, 40));
    if (bounds.length <= 1) add(r.int(len), r.range(1, 30));
  } else if (kind === "slow") {
    const cuts = Array.from({ length: r.range(1, 3) }, () => r.int(len)).sort((a, b) => a - b);
    for (const c of cuts) add(c, r.range(200, 1200));
  } else if (kind === "head-then-body") {
    // each head alone, its body a moment later (what a client waiting for 100 Continue does)
    for (let i = text.indexOf("\r\n\r\n"); i >= 0 && pieces.length < 10; i = text.indexOf("\r\n\r\n", i + 4)) add(i + 4, r.range(5, 120));
  } else if (kind === "split-crlf") {
    for (let i = text.indexOf("\r"); i >= 0 && pieces.length < 30; i = text.indexOf("\r", i + 1)) add(i + 1, r.chance(0.5) ? 1 : 0);
  }
  return { kind, pieces };
}

// ---------------------------------------------------------------------------------------------
// the reference model
// ---------------------------------------------------------------------------------------------

const TCHAR_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const CTL_RE = /[\x00-\x08\x0a-\x1f\x7f]/;

/**
 * What may be dispatched for `text` (latin1): { entries, why } where every entry is
 * { start, end, method, target, tags (or null: not checked), body (latin1 or null when not
 * complete), expect (may get 100 Continue), strict (no leniency used), why (of the last stop) }.
 * The app's records must be a prefix of entries; `why` says where and why the list ends.
 */
export function model(text) {
  const entries = [];
  let p = 0;
  for (;;) {
    // RFC 9112 §2.2: empty lines before a request line may be ignored (at least one SHOULD be).
    let skipped = 0;
    for (;;) {
      if (text.startsWith("\r\n", p)) p += 2;
      else if (text[p] === "\n") p += 1;
      else break;
      skipped++;
    }
    if (p >= text.length) return { entries, why: "end of input" };
    const head = readHead(text, p);
    if (head.incomplete) return { entries, why: `incomplete head at ${p}` };
    if (head.reject) return { entries, why: `must reject the head at ${p}: ${head.reject}` };
    const e = {
      start: p, method: head.method, target: head.target, tags: head.tags, expect: head.expect,
      strict: head.strict && skipped === 0, body: null, end: -1, minor: head.minor,
    };
    entries.push(e);
    let q = head.end;
    if (head.framing === "length") {
      if (text.length - q < head.length) return { entries, why: `incomplete body at ${q}` };
      e.body = text.slice(q, q + head.length);
      q += head.length;
    } else if (head.framing === "chunked") {
      const b = readChunked(text, q);
      if (b.incomplete) return { entries, why: `incomplete chunked body at ${q}` };
      if (b.reject) return { entries, why: `malformed chunked body at ${b.at}: ${b.reject}` };
      e.body = b.body;
      e.strict &&= b.strict;
      q = b.end;
    } else {
      e.body = "";
    }
    e.end = q;
    if (head.stop) return { entries, why: `no request after ${p}: ${head.stop}` };
    p = q;
  }
}

/** The lines of a head from `p`: ends at the first empty line; each line ends at LF (a CR right
 *  before it is dropped). A bare CR elsewhere is read as SP (RFC 9112 §2.2: reject or replace). */
function readHead(text, p) {
  const lines = [];
  let strict = true;
  let q = p;
  for (;;) {
    const lf = text.indexOf("\n", q);
    if (lf < 0) return { incomplete: true };
    let line = text.slice(q, lf);
    if (line.endsWith("\r")) line = line.slice(0, -1);
    else strict = false; // bare LF as a line end
    if (line.includes("\r")) {
      strict = false;
      line = line.replace(/\r/g, " ");
    }
    q = lf + 1;
    if (line === "") {
      if (lines.length === 0) continue; // cannot happen: empty lines were skipped
      break;
    }
    lines.push(line);
  }
  const h = { end: q, strict, stop: null, framing: "none", length: 0, expect: false, tags: null };

  // request line: method SP target SP HTTP/1.d, or (RFC 9112 §3) words separated by whitespace runs
  const rl = lines[0];
  let words;
  const m = /^(\S+) (\S+) (\S+)$/.exec(rl);
  if (m !== null && !/[\t\x0b\x0c]/.test(rl)) words = [m[1], m[2], m[3]];
  else {
    h.strict = false;
    words = rl.split(/[ \t\x0b\x0c]+/).filter((w) => w !== "");
  }
  if (words.length !== 3) return { reject: `request line ${JSON.stringify(rl.slice(0, 80))}` };
  const [method, target, version] = words;
  if (!TCHAR_RE.test(method)) return { reject: `method ${JSON.stringify(method.slice(0, 40))}` };
  if (/[\x00-\x20\x7f]/.test(target)) return { reject: "control byte in the target" };
  const v = /^HTTP\/(\d)\.(\d)$/.exec(version);
  if (v === null || v[1] !== "1") return { reject: `version ${JSON.stringify(version.slice(0, 20))}` };
  h.minor = v[2] === "0" ? 0 : 1;
  if (target === "*") {
    if (method !== "OPTIONS") return { reject: "* without OPTIONS" };
  } else if (!target.startsWith("/") && !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(target)) {
    if (method !== "CONNECT") return { reject: "target form" };
  }
  h.method = method;
  h.target = target;
  // Tags are checked unless normalisation could remove a path segment.
  h.tags = /\/\.|\\|%2e/i.test(target) ? null : pathTags(target);

  // field lines
  const fields = []; // [lowercase name, value]
  let ignoring = true; // whitespace-preceded lines right after the request line are ignored
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line[0] === " " || line[0] === "\t") {
      h.strict = false;
      if (ignoring) continue;
      fields[fields.length - 1][1] = trimOws(`${fields[fields.length - 1][1]} ${trimOws(line)}`); // obs-fold
      continue;
    }
    ignoring = false;
    const colon = line.indexOf(":");
    if (colon <= 0) return { reject: `field line without a name and colon: ${JSON.stringify(line.slice(0, 60))}` };
    const name = line.slice(0, colon);
    if (!TCHAR_RE.test(name)) return { reject: `field name ${JSON.stringify(name.slice(0, 40))}` };
    const value = trimOws(line.slice(colon + 1));
    if (CTL_RE.test(value)) h.strict = false;
    fields.push([name.toLowerCase(), value]);
  }
  const all = (n) => fields.filter((f) => f[0] === n).map((f) => f[1]);
  const processed = ["content-length", "transfer-encoding", "host", "connection", "expect"];
  for (const [n, val] of fields) if (processed.includes(n) && CTL_RE.test(val)) return { reject: `control byte in ${n}` };

  const hosts = all("host");
  if (hosts.length > 1) return { reject: "more than one Host" };
  if (hosts.length === 0 && h.minor === 1) return { reject: "HTTP/1.1 without Host" };

  const expect = all("expect");
  h.expect = h.minor === 1 && expect.some((x) => /100-continue/i.test(x));

  const tokens = all("connection").flatMap(list);
  const close = tokens.includes("close");
  const keepAlive = tokens.includes("keep-alive");
  if (close) h.stop = "Connection: close";
  else if (h.minor === 0 && !keepAlive) h.stop = "HTTP/1.0 without keep-alive";

  const te = all("transfer-encoding");
  const cl = all("content-length");
  if (te.length > 0) {
    // RFC 9112 §6.1: HTTP/1.0 with Transfer-Encoding is faulty framing; with Content-Length it
    // may be refused or framed by Transfer-Encoding alone. Either way nothing may follow it.
    if (h.minor === 0) h.stop = "Transfer-Encoding in HTTP/1.0";
    if (cl.length > 0) {
      h.strict = false;
      h.stop = "both Transfer-Encoding and Content-Length";
    }
    const joined = te.join(", ");
    if (/["\\]/.test(joined)) return { reject: "quoted Transfer-Encoding" };
    const codings = list(joined).map((c) => trimOws(c.split(";")[0]));
    if (codings.length === 0 || codings[codings.length - 1] !== "chunked") return { reject: "Transfer-Encoding does not end in chunked" };
    if (codings.filter((c) => c === "chunked").length !== 1) return { reject: "chunked twice" };
    if (joined.includes(";") || codings.length > 1) h.strict = false;
    h.framing = "chunked";
  } else if (cl.length > 0) {
    const values = cl.flatMap((x) => x.split(",")).map(trimOws);
    if (!values.every((x) => /^[0-9]+$/.test(x))) return { reject: "Content-Length is not digits" };
    if (new Set(values.map((x) => BigInt(x))).size !== 1) return { reject: "differing Content-Lengths" };
    if (values.length > 1) h.strict = false;
    const n = Number(BigInt(values[0]));
    if (n > 0) {
      h.framing = "length";
      h.length = n;
    }
  }
  return h;
}

/** The tags in the path and query of a target or URL (an authority may be case-folded). */
export function pathTags(s) {
  return (s.replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/, "").match(TAG_RE) ?? []).sort();
}

function trimOws(s) {
  return s.replace(/^[ \t]+|[ \t]+$/g, "");
}

/** A comma-separated list, lower-cased, empty elements dropped (RFC 9110 §5.6.1). */
function list(value) {
  return value.split(",").map((x) => trimOws(x).toLowerCase()).filter((x) => x !== "");
}

/** A chunked body from `p`: { body, end, strict } or { incomplete } or { reject, at }. */
function readChunked(text, p) {
  let body = "";
  let strict = true;
  let q = p;
  const line = () => {
    const lf = text.indexOf("\n", q);
    if (lf < 0) return null;
    let s = text.slice(q, lf);
    if (s.endsWith("\r")) s = s.slice(0, -1);
    else strict = false;
    if (s.includes("\r")) {
      strict = false;
      s = s.replace(/\r/g, " ");
    }
    q = lf + 1;
    return s;
  };
  for (;;) {
    const at = q;
    const s = line();
    if (s === null) return { incomplete: true };
    const m = /^([0-9A-Fa-f]+)([ \t]*)(.*)$/.exec(s);
    if (m === null) return { reject: `chunk size line ${JSON.stringify(s.slice(0, 40))}`, at };
    // Right after the digits only BWS, ";" or the line end: "0x3" or "3a" read by a lenient
    // parser as another size is a framing ambiguity. Junk after BWS ("3 x") leaves the size alone.
    if (m[2] === "" && m[3] !== "" && m[3][0] !== ";") return { reject: `chunk size line ${JSON.stringify(s.slice(0, 40))}`, at };
    if (m[3] !== "" && !/^(;[ \t]*[!#$%&'*+.^_`|~0-9A-Za-z-]+([ \t]*=[ \t]*([!#$%&'*+.^_`|~0-9A-Za-z-]+|"([\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"))?[ \t]*)+$/.test(m[3])) {
      strict = false; // a malformed extension: may be refused, the framing is the line's
    }
    const size = BigInt(`0x${m[1]}`);
    if (size === 0n) break;
    if (BigInt(text.length - q) < size) return { incomplete: true };
    const n = Number(size);
    body += text.slice(q, q + n);
    q += n;
    if (text.length - q < 1) return { incomplete: true };
    if (text.startsWith("\r\n", q)) q += 2;
    else if (text[q] === "\n") {
      strict = false;
      q += 1;
    } else if (text[q] === "\r" && q + 1 >= text.length) return { incomplete: true };
    else return { reject: "no CRLF after chunk data", at: q };
  }
  // trailer section: field lines (not interpreted) up to an empty line
  for (;;) {
    const s = line();
    if (s === null) return { incomplete: true };
    if (s === "") break;
  }
  return { body, end: q, strict };
}

// ---------------------------------------------------------------------------------------------
// responses
// ---------------------------------------------------------------------------------------------

/**
 * Parse what the server sent: { responses: [{ status, headers, interim, seq, start, end }],
 * rest (unparsed bytes: an incomplete response), error }. `isHead(seq)` says whether the app
 * response numbered seq answered a HEAD request (no body).
 */
export function parseResponses(text, isHead, closed) {
  const responses = [];
  let p = 0;
  while (p < text.length) {
    const end = text.indexOf("\r\n\r\n", p);
    if (end < 0) return { responses, rest: text.slice(p) };
    const lines = text.slice(p, end).split("\r\n");
    const sl = /^HTTP\/1\.1 ([1-5][0-9][0-9]) [\t \x21-\x7e\x80-\xff]*$/.exec(lines[0]);
    if (sl === null) return { responses, error: `bad status line ${JSON.stringify(lines[0].slice(0, 80))}` };
    const status = Number(sl[1]);
    const headers = {};
    for (const l of lines.slice(1)) {
      const hm = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([\t \x21-\x7e\x80-\xff]*?)[ \t]*$/.exec(l);
      if (hm === null) return { responses, error: `bad header line ${JSON.stringify(l.slice(0, 80))}` };
      (headers[hm[1].toLowerCase()] ??= []).push(hm[2]);
    }
    const res = { status, headers, interim: status < 200, start: p, seq: headers["x-fuzz-seq"] ? Number(headers["x-fuzz-seq"][0]) : null };
    let q = end + 4;
    const te = headers["transfer-encoding"];
    const cl = headers["content-length"];
    if (te && cl) return { responses, error: "a response with both Transfer-Encoding and Content-Length" };
    if (cl && (cl.length !== 1 || !/^[0-9]+$/.test(cl[0]))) return { responses, error: `bad response Content-Length ${JSON.stringify(cl)}` };
    if (res.interim) {
      if (te || cl) return { responses, error: "a 1xx with a body" };
    } else if (res.seq !== null && isHead(res.seq)) {
      // no body
    } else if (res.seq === null && status >= 400) {
      // an error response: to a HEAD request it may come without its body; nothing follows it
      const n = cl ? Number(cl[0]) : 0;
      if (!cl) return { responses, error: `an error response without Content-Length` };
      if (text.length - q === n || (text.length === q && closed)) q = text.length;
      else if (text.length - q < n) return { responses, rest: text.slice(p) };
      else return { responses, error: `bytes after an error response: ${JSON.stringify(text.slice(q + n, q + n + 80))}` };
    } else if (te) {
      if (te.length !== 1 || te[0].toLowerCase() !== "chunked") return { responses, error: `response Transfer-Encoding ${JSON.stringify(te)}` };
      for (;;) {
        const le = text.indexOf("\r\n", q);
        if (le < 0) return { responses, rest: text.slice(p) };
        if (!/^[0-9a-f]+$/i.test(text.slice(q, le))) return { responses, error: `bad response chunk size ${JSON.stringify(text.slice(q, le + 2).slice(0, 40))}` };
        const size = parseInt(text.slice(q, le), 16);
        q = le + 2;
        if (size === 0) {
          if (text.length < q + 2) return { responses, rest: text.slice(p) };
          if (!text.startsWith("\r\n", q)) return { responses, error: "response trailers or a bad last chunk" };
          q += 2;
          break;
        }
        if (text.length < q + size + 2) return { responses, rest: text.slice(p) };
        if (!text.startsWith("\r\n", q + size)) return { responses, error: "no CRLF after response chunk data" };
        q += size + 2;
      }
    } else if (cl) {
      const n = Number(cl[0]);
      if (text.length - q < n) return { responses, rest: text.slice(p) };
      q += n;
    } else if (status === 204 || status === 304) {
      // no body
    } else {
      // close-delimited: only the last response, and only once the server closed
      if (!(headers["connection"] ?? []).some((c) => /\bclose\b/i.test(c))) return { responses, error: "a close-delimited response without connection: close" };
      if (!closed) return { responses, rest: text.slice(p) };
      q = text.length;
    }
    res.end = q;
    res.bodyText = text.slice(end + 4, q);
    responses.push(res);
    p = q;
  }
  return { responses, rest: "" };
}

// ---------------------------------------------------------------------------------------------
// running one case
// ---------------------------------------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The longest a connection may stay open after the client's last byte. */
export function closeBoundMs(limits = LIMITS) {
  return Math.max(limits.headerTimeout, limits.timeout, limits.keepaliveTimeout) * 1000 + CLOSE_SLACK_MS;
}

/** Log query: the app's records for the connection from `port` that began before `before`. */
async function queryLog(addr, port, before) {
  const sock = net.connect(addr);
  const chunks = [];
  sock.on("data", (c) => chunks.push(c));
  sock.on("error", () => {});
  await once(sock, "connect");
  sock.write(`GET /__fuzz_log?port=${port}&before=${before} HTTP/1.1\r\nHost: control\r\nConnection: close\r\n\r\n`);
  const timer = setTimeout(() => sock.destroy(), 10000);
  await once(sock, "close");
  clearTimeout(timer);
  const text = Buffer.concat(chunks).toString("latin1");
  const i = text.indexOf("\r\n\r\n");
  if (!/^HTTP\/1\.1 200 /.test(text) || i < 0) throw new Error(`log query failed: ${JSON.stringify(text.slice(0, 200))}`);
  return JSON.parse(Buffer.from(text.slice(i + 4), "latin1").toString("utf8"));
}

/**
 * Send case `c` on a new connection and collect { received (latin1), closedBy ("fin", "reset",
 * "timeout"), error, lastWriteAt, closedAt, finSent, records, pid }.
 */
export async function runCase(addr, c, { limits = LIMITS, expected = Infinity } = {}) {
  const sock = net.connect({ ...addr, allowHalfOpen: true });
  sock.setNoDelay(true);
  const out = { received: "", closedBy: null, error: null, finSent: false, writeError: null };
  const chunks = [];
  let wake = null;
  let lastData = Date.now();
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  sock.on("data", (d) => {
    chunks.push(d);
    lastData = Date.now();
    poke();
  });
  sock.on("end", () => {
    out.closedBy ??= "fin";
    out.closedAt ??= Date.now();
    poke();
  });
  sock.on("error", (e) => {
    out.error ??= e.code ?? e.message;
    out.closedBy ??= "reset";
    out.closedAt ??= Date.now();
    poke();
  });
  sock.on("close", () => {
    out.closedBy ??= "reset";
    out.closedAt ??= Date.now();
    poke();
  });
  await once(sock, "connect");
  const port = sock.localPort;
  const bytes = Buffer.from(c.text, "latin1");
  for (let i = 0; i < c.plan.length; i++) {
    const { at, delay } = c.plan[i];
    const to = i + 1 < c.plan.length ? c.plan[i + 1].at : bytes.length;
    if (delay > 0) await sleep(delay);
    if (out.closedBy !== null) break;
    if (to > at) sock.write(bytes.subarray(at, to));
  }
  out.lastWriteAt = Date.now();
  if (c.fin === "immediate" && out.closedBy === null) {
    sock.end();
    out.finSent = true;
  }
  const deadline = out.lastWriteAt + closeBoundMs(limits);
  const quietMs = 250;
  let seen = -1;
  let finals = 0;
  while (out.closedBy === null) {
    const now = Date.now();
    if (now >= deadline) {
      out.closedBy = "timeout";
      out.closedAt = now;
      break;
    }
    if (c.fin === "after" && !out.finSent) {
      if (chunks.length !== seen) {
        seen = chunks.length;
        const parsed = parseResponses(Buffer.concat(chunks).toString("latin1"), () => false, false);
        finals = parsed.responses.filter((r) => !r.interim).length;
      }
      // FIN once every response the model allows came, or (unless the case is live) once the
      // server has been quiet for a while: a FIN makes the server close after its response.
      if (finals >= expected || (!c.live && now - Math.max(lastData, out.lastWriteAt) >= quietMs)) {
        sock.end();
        out.finSent = true;
      }
    }
    await new Promise((resolve) => {
      wake = resolve;
      setTimeout(resolve, 25);
    });
  }
  out.received = Buffer.concat(chunks).toString("latin1");
  // The socket is still open on our side (allowHalfOpen), so the port is not reused before the
  // query; the app's records for it are complete once the server closed.
  try {
    const log = await queryLog(addr, port, Date.now());
    out.records = log.records;
    out.pid = log.pid;
  } finally {
    sock.destroy();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// checking one case
// ---------------------------------------------------------------------------------------------

/**
 * The invariants for case `c`, its model `m` and what happened `res`. Returns
 * { violations: [strings], statuses: [final statuses], dispatched }.
 */
export function checkCase(c, m, res, ctx) {
  const v = [];
  const records = res.records ?? [];
  const isHead = (seq) => records[seq]?.method === "HEAD";
  const closed = res.closedBy === "fin" || res.closedBy === "reset";
  const parsed = parseResponses(res.received, isHead, closed);
  const responses = parsed.responses;
  const finals = responses.filter((r) => !r.interim);

  // (a) the same worker answers
  if (res.pid !== ctx.pid) v.push(`(a) the log query was answered by pid ${res.pid}, not ${ctx.pid}`);

  // (b) well-formed responses
  if (parsed.error) v.push(`(b) ${parsed.error}`);
  else if (parsed.rest && !(res.closedBy === "reset")) v.push(`(b) an incomplete response at the end: ${JSON.stringify(parsed.rest.slice(0, 120))}`);

  // (e) no hang
  if (res.closedBy === "timeout") v.push(`(e) the connection was still open ${closeBoundMs(ctx.limits)} ms after the last byte sent`);

  // responses against the app's records
  let interimFor = 0;
  for (let i = 0, j = 0; i < responses.length; i++) {
    const r = responses[i];
    if (r.interim) {
      const e = m.entries[j];
      if (r.status !== 100) v.push(`(b) an unexpected ${r.status} interim response`);
      else if (e === undefined || !e.expect) v.push(`(b) a 100 Continue before the answer to request ${j}, which did not ask for it`);
      else if (++interimFor > 1) v.push(`(b) more than one 100 Continue for request ${j}`);
      else if (j >= records.length) v.push(`(b) a 100 Continue for request ${j}, which the app never saw`);
      continue;
    }
    interimFor = 0;
    if (r.seq !== null) {
      if (r.seq !== j) v.push(`(d) response ${j} is the app's answer to record ${r.seq}`);
      if (r.status !== 200) v.push(`(b) the app answered ${r.status}`);
      const pid = Number(r.headers["x-fuzz-pid"]?.[0]);
      if (pid !== ctx.pid) v.push(`(a) response ${j} came from pid ${pid}, not ${ctx.pid}`);
      if (records[r.seq] === undefined) v.push(`(d) response ${j} answers record ${r.seq}, which the app did not log`);
    } else if (r.status < 400) {
      v.push(`(b) a ${r.status} response the app did not write`);
    }
    // (c) after an error response, or any response with connection: close, nothing more
    const closing = r.status >= 400 || (r.headers["connection"] ?? []).some((x) => /\bclose\b/i.test(x));
    if (closing) {
      if (r.status >= 400 && !(r.headers["connection"] ?? []).some((x) => /\bclose\b/i.test(x))) v.push(`(c) a ${r.status} without connection: close`);
      if (i + 1 < responses.length || parsed.rest) v.push(`(c) bytes after a ${r.status} response with connection: close`);
      if (!closed && res.closedBy !== "timeout") v.push(`(c) the connection stayed open after a ${r.status} response`);
    }
    j++;
  }
  const appAnswers = finals.filter((r) => r.seq !== null).length;
  if (appAnswers > records.length) v.push(`(d) ${appAnswers} app answers for ${records.length} records`);

  // (d) the app's records are a prefix of what the model allows
  if (records.length > m.entries.length) {
    v.push(`(d) the app saw ${records.length} request(s) where the framing allows at most ${m.entries.length} (${m.why})`);
  }
  for (let i = 0; i < records.length && i < m.entries.length; i++) {
    const rec = records[i];
    const e = m.entries[i];
    if (rec.method !== e.method) v.push(`(d) request ${i}: the app saw method ${JSON.stringify(rec.method)}, the bytes say ${JSON.stringify(e.method)}`);
    if (e.tags !== null) {
      const seen = pathTags(rec.url);
      if (seen.join() !== e.tags.join()) v.push(`(d) request ${i}: the app saw url ${JSON.stringify(rec.url)}, the target is ${JSON.stringify(e.target)}`);
    }
    if (rec.body && typeof rec.body === "object") {
      if (e.body === null) v.push(`(d) request ${i}: the app read a complete body of ${rec.body.len} bytes where the bytes frame none that completes (${m.why})`);
      else {
        const want = Buffer.from(e.body, "latin1");
        if (rec.body.len !== want.length || rec.body.hash !== fnv(want)) {
          v.push(`(d) request ${i}: the app read a body of ${rec.body.len} bytes (fnv ${rec.body.hash}), the framing gives ${want.length} bytes (fnv ${fnv(want)})`);
        }
        if (rec.body.len > ctx.limits.maxBodySize) v.push(`(d) request ${i}: a body of ${rec.body.len} bytes over --max-body-size reached the app`);
      }
    }
  }

  // a case the server must serve in full (valid requests, unmutated, delivered in time)
  if (c.live && v.length === 0) {
    const served = finals.filter((r) => r.status === 200 && r.seq !== null).length;
    if (records.length !== m.entries.length || served !== m.entries.length) {
      v.push(`(liveness) a valid, unmutated sequence of ${m.entries.length} request(s) got ${served} answer(s), ${records.length} dispatched; statuses ${finals.map((r) => r.status).join(",")}`);
    }
  }
  return { violations: v, statuses: finals.map((r) => r.seq !== null ? r.status : `${r.status}s`), dispatched: records.length };
}

// ---------------------------------------------------------------------------------------------
// a run: server, concurrency, stats, reproducers
// ---------------------------------------------------------------------------------------------

/** Start the server for a run; its output is watched (bounded) for worker exits. */
export async function startFuzzServer({ runtime = RUNTIME, limits = LIMITS } = {}) {
  const app = writeApp(APP_SOURCE, "fuzz-app.mjs");
  const server = await startServer(serverArgs(app, limits), { runtime });
  // The harness keeps all output in one string and rescans it per chunk; a long run keeps only
  // a bounded tail and the lines that matter.
  server.proc.stdout.removeAllListeners("data");
  server.proc.stderr.removeAllListeners("data");
  const watch = { tail: "", exits: [], errorLines: 0 };
  const onText = (chunk) => {
    watch.tail = (watch.tail + chunk).slice(-20000);
    for (const line of String(chunk).split("\n")) {
      if (/exited|respawn|uncaught|unhandled|panic|fatal/i.test(line) && !/^pronghorn: \d{3}: /.test(line)) watch.exits.push(line.slice(0, 300));
      else if (/^pronghorn: \d{3}: /.test(line)) watch.errorLines++;
    }
  };
  server.proc.stdout.on("data", onText);
  server.proc.stderr.on("data", onText);
  const log = await queryLog(addressOf(server), 1, 0);
  return { server, pid: log.pid, watch, limits, runtime, addr: addressOf(server) };
}

/** Where a failing case's reproducer goes: the case, the bytes, what came back, how to replay. */
export function writeReproducer(ctx, c, m, res, check, dir = fs.mkdtempSync(path.join(os.tmpdir(), "pronghorn-fuzz-"))) {
  const file = path.join(dir, `case-${c.seed}-${c.index}.json`);
  const repro = {
    runtime: ctx.runtime,
    seed: c.seed,
    index: c.index,
    caseSeed: c.caseSeed,
    limits: ctx.limits,
    serverArgs: serverArgs("APP", ctx.limits),
    violations: check.violations,
    mutations: c.mutations,
    planKind: c.planKind,
    plan: c.plan,
    fin: c.fin,
    live: c.live,
    bytes: c.text, // latin1 as a JSON string
    bytesEscaped: escapeBytes(c.text),
    bytesBase64: Buffer.from(c.text, "latin1").toString("base64"),
    model: { why: m.why, entries: m.entries.map((e) => ({ ...e, body: e.body === null ? null : `${e.body.length} bytes fnv ${fnv(Buffer.from(e.body, "latin1"))}` })) },
    received: res.received,
    closedBy: res.closedBy,
    error: res.error,
    records: res.records,
    replay: `node scripts/fuzz.mjs --replay ${file}`,
  };
  fs.writeFileSync(file, JSON.stringify(repro, null, 2));
  return file;
}

/** latin1 bytes as the inside of a JS string literal: printable ASCII as is, the rest escaped. */
export function escapeBytes(s) {
  return s.replace(/[^\x20-\x7e]|["\\]/g, (ch) => {
    if (ch === "\r") return "\\r";
    if (ch === "\n") return "\\n";
    if (ch === "\t") return "\\t";
    if (ch === "\"" || ch === "\\") return `\\${ch}`;
    return `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
}

/** A short description of a failing case for the console. */
export function describeFailure(ctx, c, check, file) {
  return [
    `fuzz: invariant violated on ${ctx.runtime}, seed ${c.seed}, case ${c.index} (PRONGHORN_FUZZ_SEED=${c.seed})`,
    ...check.violations.map((x) => `  ${x}`),
    `  mutations: ${c.mutations.join("; ") || "none"}; delivery ${c.planKind} (${c.plan.length} piece(s)), fin ${c.fin}`,
    `  bytes (${c.text.length}, as a JS string literal): "${escapeBytes(c.text)}"`,
    file ? `  reproducer: ${file}` : "",
  ].filter(Boolean).join("\n");
}

/**
 * Run cases until `n` are done or `durationMs` passed or a violation was found (unless
 * keepGoing). Returns the summary: { seed, runtime, cases, connections, requests (model),
 * dispatched, statuses {status: count}, violations: [{ c, check, file }], ms }.
 */
export async function fuzz({ runtime = RUNTIME, seed, n = Infinity, durationMs = 25000, concurrency = 6, limits = LIMITS,
  onProgress = null, progressEveryMs = 10000, reproDir = null, keepGoing = false, startIndex = 0 } = {}) {
  const ctx = await startFuzzServer({ runtime, limits });
  const started = Date.now();
  const stats = {
    seed, runtime, cases: 0, connections: 0, requestsModelled: 0, dispatched: 0, liveCases: 0, mutated: 0,
    statuses: {}, closedBy: {}, violations: [], ms: 0, serverPid: ctx.pid,
  };
  let next = startIndex;
  let stop = false;
  let lastProgress = Date.now();
  const worker = async () => {
    while (!stop && next - startIndex < n && Date.now() - started < durationMs) {
      const index = next++;
      const c = generateCase(seed, index);
      const m = model(c.text);
      let res;
      try {
        res = await runCase(ctx.addr, c, { limits, expected: m.entries.length });
      } catch (err) {
        res = { received: "", closedBy: "error", error: String(err), records: [], pid: undefined };
      }
      const check = checkCase(c, m, res, ctx);
      if (res.closedBy === "error") check.violations.push(`(a) the case could not run: ${res.error}`);
      if (ctx.watch.exits.length > 0) check.violations.push(`(a) the server logged: ${ctx.watch.exits.join(" | ")}`);
      stats.cases++;
      stats.connections += 2; // the case and its log query
      stats.requestsModelled += m.entries.length;
      stats.dispatched += check.dispatched;
      if (c.live) stats.liveCases++;
      if (c.mutations.length) stats.mutated++;
      stats.closedBy[res.closedBy] = (stats.closedBy[res.closedBy] ?? 0) + 1;
      for (const s of check.statuses) stats.statuses[s] = (stats.statuses[s] ?? 0) + 1;
      if (check.violations.length > 0) {
        const file = writeReproducer(ctx, c, m, res, check, reproDir ?? undefined);
        stats.violations.push({ c, check, file, text: describeFailure(ctx, c, check, file) });
        if (!keepGoing) stop = true;
      }
      if (onProgress && Date.now() - lastProgress >= progressEveryMs) {
        lastProgress = Date.now();
        onProgress({ ...stats, ms: Date.now() - started });
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
    // the worker still serves, with the same pid
    const log = await queryLog(ctx.addr, 1, 0);
    if (log.pid !== ctx.pid) stats.violations.push({ text: `(a) after the run the worker pid is ${log.pid}, not ${ctx.pid}` });
  } finally {
    stats.ms = Date.now() - started;
    // checked before the stop: only what the server logged while serving counts
    if (ctx.watch.exits.length > 0 && !stats.violations.some((x) => /server logged/.test(x.text))) {
      stats.violations.push({ text: `(a) the server logged: ${ctx.watch.exits.join(" | ")}` });
    }
    stats.serverExit = await ctx.server.stop();
  }
  return stats;
}

/** One line: cases, connections, requests, outcomes by status. */
export function summaryLine(s) {
  const st = Object.entries(s.statuses).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}:${n}`).join(" ");
  const cl = Object.entries(s.closedBy).map(([k, n]) => `${k}:${n}`).join(" ");
  return `fuzz ${s.runtime}: seed ${s.seed}, ${s.cases} cases (${s.mutated} mutated, ${s.liveCases} live) in ${(s.ms / 1000).toFixed(1)} s, ` +
    `${s.connections} connections, ${s.requestsModelled} requests framed by the model, ${s.dispatched} dispatched; ` +
    `statuses (s = server-written) ${st || "none"}; closed by ${cl}; ${s.violations.length} violation(s)`;
}

/** Replay a reproducer file's case `times` times against a fresh server; returns the checks. */
export async function replay(file, { runtime, times = 5 } = {}) {
  const repro = JSON.parse(fs.readFileSync(file, "utf8"));
  const ctx = await startFuzzServer({ runtime: runtime ?? repro.runtime, limits: repro.limits });
  const c = { seed: repro.seed, index: repro.index, caseSeed: repro.caseSeed, text: repro.bytes, mutations: repro.mutations, plan: repro.plan, planKind: repro.planKind, fin: repro.fin, live: repro.live };
  const m = model(c.text);
  const out = [];
  try {
    for (let i = 0; i < times; i++) {
      const res = await runCase(ctx.addr, c, { limits: ctx.limits, expected: m.entries.length });
      out.push({ res, check: checkCase(c, m, res, ctx) });
    }
  } finally {
    await ctx.server.stop();
  }
  return { c, m, out, ctx };
}
