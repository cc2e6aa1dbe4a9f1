// The wasm parser against an independent model of picohttpparser (test/fixtures/phr-oracle.js).
// wasm/test/cases.json and the SIMD-vs-scalar fuzzer were written by the parser's author, so a
// misread rule would sit in both; the oracle was written separately, from picohttpparser.c's
// rules and upstream's behaviour, one byte at a time. Here a seeded generator makes near-valid
// requests, responses, header blocks and chunked bodies (valid ones, then mutated: bytes flipped
// to SP/HT/CR/LF/NUL/DEL/0x80/':'/';'/'|'/'~'/'{', cut short, spliced, padded with whitespace
// runs, tokens long enough to cross 16-byte SIMD blocks; last_len and the header capacity vary)
// and every output field of the oracle, the SIMD build and the scalar build must agree: return
// value, method, path, minor_version, status, msg, each header (offsets, so a value that is right
// but points elsewhere still fails), decoded bytes, left-over bytes, bytes_left_in_chunk and
// is_in_data after every call. Inputs end at the last byte of linear memory, so a read past the
// end traps. PRONGHORN_ORACLE_N (default 40000) and PRONGHORN_ORACLE_SEED set the run; a long
// run: PRONGHORN_ORACLE_N=3000000 node --test test/parser-oracle.test.js
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import process from "node:process";
import { Buffer } from "node:buffer";
import { newRawInstance } from "../dist/http/parser.js";
import { ChunkedDecoder, parseHeaders, parseRequest, parseResponse } from "./fixtures/phr-oracle.js";

const DEFAULT_COUNT = 40000;
const COUNT = Number(process.env.PRONGHORN_ORACLE_N ?? DEFAULT_COUNT);
const SEED = Number(process.env.PRONGHORN_ORACLE_SEED ?? 0x5eed1e55) >>> 0;
/** Disagreements reported in full before the run gives up listing them. */
const MAX_REPORTED = 20;

const HEADER_SLOTS = 320; // > 256 so pg_parse_request's -3 path is reachable
const HEADER_BYTES = 16;
const PG_MAX_HEADERS = 256;
const PG_NO_NAME = 0xffffffff;
const O_METHOD = 0, O_METHOD_LEN = 4, O_PATH = 8, O_PATH_LEN = 12, O_MINOR = 16, O_NUM_HEADERS = 20;
const O_STATUS = 24, O_MSG = 28, O_MSG_LEN = 32, O_BUFSZ = 36;
const POISON = 0xaaaaaaaa;

const bytes = (text) => Buffer.from(text, "latin1");

// ---- the wasm side, shaped like the oracle's results ----------------------------------------

class WasmSide {
  constructor(build) {
    this.build = build;
    this.e = newRawInstance(build);
    this.mem = new Uint8Array(this.e.memory.buffer);
    this.view = new DataView(this.e.memory.buffer);
    this.out = this.e.malloc(64);
    this.headers = this.e.malloc(HEADER_SLOTS * HEADER_BYTES);
    this.decoder = this.e.malloc(32);
    assert.ok(this.headers + HEADER_SLOTS * HEADER_BYTES < this.mem.length - (4 << 20), "heap reaches the last 4 MiB");
  }
  u32(addr) { return this.view.getUint32(addr, true); }
  word(off) { return this.view.getInt32(this.out + off, true); }
  /** Place `input` so its last byte is the last byte of memory; returns its address. */
  atEnd(input) {
    const ptr = this.mem.length - input.length;
    this.mem.set(input, ptr);
    return ptr;
  }
  poison(capacity) {
    for (let off = 0; off < 64; off += 4) this.view.setUint32(this.out + off, POISON, true);
    this.view.setUint32(this.out + O_NUM_HEADERS, capacity, true);
  }
  offset(ptr, base) { return ptr === 0 ? null : ptr - base; }
  headerList(base, count) {
    const list = [];
    for (let i = 0; i < count; i++) {
      const h = this.headers + i * HEADER_BYTES;
      list.push({ name: this.offset(this.u32(h), base), nameLen: this.u32(h + 4), value: this.u32(h + 8) - base, valueLen: this.u32(h + 12) });
    }
    return list;
  }
  request(input, lastLen, capacity) {
    this.poison(capacity);
    const p = this.atEnd(input);
    const o = this.out;
    const ret = this.e.phr_parse_request(p, input.length, o + O_METHOD, o + O_METHOD_LEN, o + O_PATH, o + O_PATH_LEN,
      o + O_MINOR, this.headers, o + O_NUM_HEADERS, lastLen);
    return {
      ret, method: this.offset(this.word(O_METHOD) >>> 0, p), methodLen: this.word(O_METHOD_LEN),
      path: this.offset(this.word(O_PATH) >>> 0, p), pathLen: this.word(O_PATH_LEN), minorVersion: this.word(O_MINOR),
      headers: this.headerList(p, Math.min(this.word(O_NUM_HEADERS) >>> 0, HEADER_SLOTS)),
    };
  }
  response(input, lastLen, capacity) {
    this.poison(capacity);
    const p = this.atEnd(input);
    const o = this.out;
    const ret = this.e.phr_parse_response(p, input.length, o + O_MINOR, o + O_STATUS, o + O_MSG, o + O_MSG_LEN,
      this.headers, o + O_NUM_HEADERS, lastLen);
    return {
      ret, minorVersion: this.word(O_MINOR), status: this.word(O_STATUS), msg: this.offset(this.word(O_MSG) >>> 0, p),
      msgLen: this.word(O_MSG_LEN), headers: this.headerList(p, Math.min(this.word(O_NUM_HEADERS) >>> 0, HEADER_SLOTS)),
    };
  }
  headerBlock(input, lastLen, capacity) {
    this.poison(capacity);
    const p = this.atEnd(input);
    const ret = this.e.phr_parse_headers(p, input.length, this.headers, this.out + O_NUM_HEADERS, lastLen);
    return { ret, headers: this.headerList(p, Math.min(this.word(O_NUM_HEADERS) >>> 0, HEADER_SLOTS)) };
  }
  /** pg_parse_request, the server's entry point; its result area is defined on success only. */
  batch(input, lastLen) {
    const p = this.atEnd(input);
    const ret = this.e.pg_parse_request(p, input.length, lastLen);
    if (ret <= 0) return { ret };
    const r = this.e.pg_result();
    const w = (i) => this.u32(r + 4 * i);
    const headers = [];
    for (let i = 0; i < w(5); i++) {
      const nameOff = w(6 + 4 * i);
      headers.push({ name: nameOff === PG_NO_NAME ? null : nameOff, nameLen: w(7 + 4 * i), value: w(8 + 4 * i), valueLen: w(9 + 4 * i) });
    }
    return { ret, method: w(0), methodLen: w(1), path: w(2), pathLen: w(3), minorVersion: w(4) | 0, headers };
  }
  newDecoder(consumeTrailer) {
    this.mem.fill(0, this.decoder, this.decoder + 32);
    this.mem[this.decoder + 4] = consumeTrailer ? 1 : 0;
  }
  /** One phr_decode_chunked call on `piece` (placed at the end of memory). */
  decode(piece) {
    const p = this.atEnd(piece);
    this.view.setUint32(this.out + O_BUFSZ, piece.length, true);
    const ret = this.e.phr_decode_chunked(this.decoder, p, this.out + O_BUFSZ);
    const n = this.word(O_BUFSZ);
    return {
      ret, bufsz: n, decoded: Buffer.from(this.mem.subarray(p, p + n)).toString("latin1"),
      rest: ret >= 0 ? Buffer.from(this.mem.subarray(p + n, p + n + ret)).toString("latin1") : null,
      bytesLeftInChunk: this.u32(this.decoder), inData: this.e.phr_decode_chunked_is_in_data(this.decoder),
    };
  }
}

// The oracle's decode call in the same shape.
function oracleDecode(dec, piece) {
  const buf = Uint8Array.from(piece);
  const { ret, bufsz } = dec.decode(buf, buf.length);
  return {
    ret, bufsz, decoded: Buffer.from(buf.subarray(0, bufsz)).toString("latin1"),
    rest: ret >= 0 ? Buffer.from(buf.subarray(bufsz, bufsz + ret)).toString("latin1") : null,
    bytesLeftInChunk: dec.bytesLeftInChunk, inData: dec.isInData(),
  };
}

// ---- the generator --------------------------------------------------------------------------

/** sfc32: small, fast, good enough, and the same sequence on every runtime. */
function prng(seed) {
  let a = 0x9e3779b9, b = 0x243f6a88, c = 0xb7e15162, d = seed >>> 0;
  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) next();
  const int = (n) => (n <= 0 ? 0 : next() % n);
  return {
    int,
    chance: (p) => next() / 0x100000000 < p,
    pick: (list) => list[int(list.length)],
    range: (lo, hi) => lo + int(hi - lo + 1),
  };
}

const TCHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const INTERESTING = [" ", "\t", "\r", "\n", "\0", "\x7f", "\x80", "\xff", ":", ";", "|", "~", "{", "\"", "/", "\x1b", "H", "0", "a", "\x0b"];
const METHODS = ["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "M-SEARCH", "PROPFIND"];
const TARGETS = ["/", "*", "/index.html", "/a/b?c=d&e=f#frag", "http://example.com/x?y", "example.com:443", "/\x80\xff\xe3\x81\x82"];
const NAMES = ["Host", "Content-Length", "Transfer-Encoding", "User-Agent", "Accept", "Cookie", "X-Forwarded-For", "a", "|~", "Expect"];

function tokenOf(r, alphabet, lo, hi) {
  let s = "";
  for (let n = r.range(lo, hi); n > 0; n--) s += alphabet[r.int(alphabet.length)];
  return s;
}

function valueText(r, lo, hi) {
  let s = "";
  for (let n = r.range(lo, hi); n > 0; n--) {
    const k = r.int(20);
    if (k === 0) s += "\t";
    else if (k === 1) s += String.fromCharCode(r.range(0x80, 0xff));
    else if (k === 2) s += " ";
    else s += String.fromCharCode(r.range(0x21, 0x7e));
  }
  return s;
}

const eol = (r) => (r.chance(0.85) ? "\r\n" : "\n");
const spaces = (r) => (r.chance(0.85) ? " " : " ".repeat(r.range(2, 20)));
const whitespaceRun = (r, lo, hi) => tokenOf(r, " \t", lo, hi);

function headerSection(r, many) {
  let s = "";
  const count = many ? r.range(250, 262) : r.chance(0.1) ? 0 : r.range(1, 12);
  for (let i = 0; i < count; i++) {
    if (i > 0 && r.chance(0.08)) {
      s += whitespaceRun(r, 1, 4) + valueText(r, 0, 30) + (r.chance(0.3) ? whitespaceRun(r, 1, 5) : "") + eol(r);
      continue;
    }
    const name = r.chance(0.6) ? r.pick(NAMES) : tokenOf(r, TCHARS, 1, r.chance(0.2) ? 48 : 12);
    const lead = r.pick(["", " ", " ", " ", "\t", "  \t ", whitespaceRun(r, 1, 20)]);
    const trail = r.chance(0.2) ? whitespaceRun(r, 1, 20) : "";
    s += name + ":" + lead + valueText(r, 0, r.chance(0.2) ? 90 : 30) + trail + eol(r);
  }
  return s + eol(r);
}

function requestText(r, many) {
  const lead = r.chance(0.05) ? eol(r) : "";
  const method = r.chance(0.7) ? r.pick(METHODS) : tokenOf(r, TCHARS, 1, 40);
  const target = r.chance(0.6) ? r.pick(TARGETS) : "/" + valueText(r, 0, 80).replace(/[ \t]/g, "_");
  const version = r.chance(0.9) ? `HTTP/1.${r.pick("0111119")}` : r.pick(["HTTP/2.0", "HTTP/1.10", "HTTP/1.x", "HTTP/1", "http/1.1", "HTTP/1.1 "]);
  const tail = r.chance(0.1) ? r.pick(["body", "GET / HTTP/1.1\r\n\r\n", "\r\n", "x\r\ny"]) : "";
  return lead + method + spaces(r) + target + spaces(r) + version + eol(r) + headerSection(r, many) + tail;
}

function responseText(r) {
  const version = r.chance(0.93) ? `HTTP/1.${r.pick("0111119")}` : r.pick(["HTTP/2.0", "HTTP/1.", "HTTP/1.2z", "HTTP/1.10"]);
  const status = r.chance(0.9) ? String(r.range(100, 599)) : r.pick(["20", "2000", "200X", "2x0", "", "099"]);
  const reason = r.pick(["", " OK", " Internal Server Error", "  Not Found", " ", "   ", " " + valueText(r, 0, 40)]);
  return version + spaces(r) + status + reason + eol(r) + headerSection(r, false);
}

function chunkedText(r) {
  let s = "";
  const hex = (n) => {
    let h = n.toString(16);
    if (r.chance(0.3)) h = h.toUpperCase();
    if (r.chance(0.1)) h = "0".repeat(r.range(1, 8)) + h;
    return h;
  };
  const ext = () => r.pick(["", "", "", ";a=b", " ; comment", "\t;x", ";q=\"v\"", " ", ";" + valueText(r, 0, 40)]);
  if (r.chance(0.03)) {
    // sizes near and past what a 32-bit size_t holds; the data never all arrives
    return r.pick(["ffffffff", "FFFFFFFF", "7fffffff", "0ffffffff", "100000000", "00000001"]) + ext() + "\r\n" + valueText(r, 0, 60);
  }
  for (let n = r.range(0, 5); n > 0; n--) {
    const size = r.chance(0.1) ? r.range(100, 600) : r.range(1, 40);
    s += hex(size) + ext() + "\r\n" + tokenOf(r, "abcdefghij\r\n0;", size, size) + "\r\n";
  }
  s += (r.chance(0.1) ? "000" : "0") + ext() + "\r\n";
  for (let n = r.chance(0.3) ? r.range(1, 3) : 0; n > 0; n--) s += tokenOf(r, TCHARS, 1, 10) + ": " + valueText(r, 0, 20) + eol(r);
  s += r.chance(0.8) ? "\r\n" : r.pick(["\n", "\r\r\n", ""]);
  if (r.chance(0.2)) s += r.pick(["GET / HTTP/1.1\r\n\r\n", "x", "\r\n"]);
  return s;
}

/** Many tiny chunks: exercises the framing-overhead guard (>= 100 KiB of framing). */
function overheadText(r) {
  const parts = [];
  const ext = r.chance(0.5) ? "" : ";" + "e".repeat(r.range(1, 50));
  const size = r.range(1, 4);
  for (let n = r.range(15000, 40000); n > 0; n--) parts.push(size.toString(16) + ext + "\r\n" + "d".repeat(size) + "\r\n");
  if (r.chance(0.5)) parts.push("0\r\n\r\n");
  return parts.join("");
}

function mutate(r, text) {
  let s = text;
  for (let n = r.chance(0.35) ? 0 : r.range(1, 3); n > 0; n--) {
    const at = r.int(s.length + 1);
    switch (r.int(9)) {
      case 0: case 1: s = s.slice(0, at) + r.pick(INTERESTING) + s.slice(at + 1); break; // flip
      case 2: s = s.slice(0, at) + r.pick(INTERESTING) + s.slice(at); break; // insert
      case 3: s = s.slice(0, at) + s.slice(at + 1); break; // delete
      case 4: s = s.slice(0, at); break; // truncate
      case 5: { // duplicate a slice
        const from = r.int(s.length + 1);
        const piece = s.slice(from, from + r.range(1, 24));
        s = s.slice(0, at) + piece + s.slice(at);
        break;
      }
      case 6: s = s.slice(0, at) + whitespaceRun(r, 1, 24) + s.slice(at); break;
      case 7: s = r.chance(0.5) ? s.replace("\r\n", "\n") : s.replace("\n", "\r\n"); break;
      default: s = s.slice(0, at) + "\r" + s.slice(at); break;
    }
  }
  return s;
}

function pickLastLen(r, len) {
  if (r.chance(0.7)) return 0;
  switch (r.int(4)) {
    case 0: return Math.max(len - 1, 0);
    case 1: return len;
    case 2: return r.int(len + 4); // up to len + 3, the most upstream reads without overrunning
    default: return r.range(1, 3);
  }
}

const countLines = (text) => text.split("\n").length;
const pickCapacity = (r, text) => (r.chance(0.7) ? 100 : r.int(Math.min(countLines(text) + 2, 300)));

/** Split `len` bytes into call-sized pieces: all at once, one byte per call, or random cuts. */
function pieces(r, len) {
  const mode = r.int(3);
  if (mode === 0 || len === 0) return [len];
  const sizes = [];
  let left = len;
  while (left > 0) {
    const n = mode === 1 ? 1 : Math.min(left, r.chance(0.3) ? r.range(1, 3) : r.range(1, 64));
    sizes.push(n);
    left -= n;
  }
  if (r.chance(0.1)) sizes.splice(r.int(sizes.length + 1), 0, 0); // an empty call now and then
  return sizes;
}

// ---- the run --------------------------------------------------------------------------------

const show = (s) => JSON.stringify(s.length > 400 ? s.slice(0, 400) + `…(${s.length} bytes)` : s);

function runDifferential(seed, count) {
  const r = prng(seed);
  const sides = [new WasmSide("simd"), new WasmSide("scalar")];
  const found = [];
  const tally = { request: 0, response: 0, headers: 0, chunked: 0, calls: 0 };
  // how often each function ended in success, -1 and -2: a generator that only ever made
  // errors (or only valid input) would compare little
  const outcomes = {};
  const outcome = (fn, ret) => {
    const k = `${fn} ${ret >= 0 ? "ok" : ret}`;
    outcomes[k] = (outcomes[k] ?? 0) + 1;
  };
  const disagree = (what, input, detail, expected, actual) => {
    if (found.length < MAX_REPORTED) {
      found.push(`${what} ${detail}\n  input ${show(input)}\n  oracle ${JSON.stringify(expected)}\n  wasm   ${JSON.stringify(actual)}`);
    } else if (found.length === MAX_REPORTED) {
      found.push("(more disagreements not listed)");
    }
  };
  for (let i = 0; i < count; i++) {
    const kind = r.int(10);
    if (kind < 4) {
      const text = mutate(r, requestText(r, r.chance(0.002)));
      const input = bytes(text);
      const lastLen = pickLastLen(r, input.length);
      const cap = pickCapacity(r, text);
      const want = parseRequest(input, lastLen, cap);
      const wantBatch = parseRequest(input, lastLen, PG_MAX_HEADERS, true);
      if (wantBatch.ret <= 0) for (const k of Object.keys(wantBatch)) if (k !== "ret") delete wantBatch[k];
      for (const side of sides) {
        const got = side.request(input, lastLen, cap);
        if (JSON.stringify(got) !== JSON.stringify(want)) disagree(`${side.build} phr_parse_request`, text, `last_len ${lastLen} cap ${cap}`, want, got);
        const gotBatch = side.batch(input, lastLen);
        if (JSON.stringify(gotBatch) !== JSON.stringify(wantBatch)) disagree(`${side.build} pg_parse_request`, text, `last_len ${lastLen}`, wantBatch, gotBatch);
      }
      outcome("request", want.ret);
      tally.request++;
    } else if (kind < 6) {
      const text = mutate(r, responseText(r));
      const input = bytes(text);
      const lastLen = pickLastLen(r, input.length);
      const cap = pickCapacity(r, text);
      const want = parseResponse(input, lastLen, cap);
      for (const side of sides) {
        const got = side.response(input, lastLen, cap);
        if (JSON.stringify(got) !== JSON.stringify(want)) disagree(`${side.build} phr_parse_response`, text, `last_len ${lastLen} cap ${cap}`, want, got);
      }
      outcome("response", want.ret);
      tally.response++;
    } else if (kind < 7) {
      const text = mutate(r, headerSection(r, false));
      const input = bytes(text);
      const lastLen = pickLastLen(r, input.length);
      const cap = pickCapacity(r, text);
      const want = parseHeaders(input, lastLen, cap);
      for (const side of sides) {
        const got = side.headerBlock(input, lastLen, cap);
        if (JSON.stringify(got) !== JSON.stringify(want)) disagree(`${side.build} phr_parse_headers`, text, `last_len ${lastLen} cap ${cap}`, want, got);
      }
      outcome("headers", want.ret);
      tally.headers++;
    } else {
      const heavy = r.chance(0.001);
      const text = heavy ? overheadText(r) : mutate(r, chunkedText(r));
      const input = bytes(text);
      const consume = r.chance(0.5);
      const cuts = pieces(r, input.length);
      const oracle = new ChunkedDecoder(consume);
      for (const side of sides) side.newDecoder(consume);
      let at = 0;
      for (const [call, n] of cuts.entries()) {
        const piece = input.subarray(at, at + n);
        at += n;
        const want = oracleDecode(oracle, piece);
        tally.calls++;
        let agreed = true;
        for (const side of sides) {
          const got = side.decode(piece);
          if (JSON.stringify(got) !== JSON.stringify(want)) {
            disagree(`${side.build} phr_decode_chunked`, text, `consume_trailer ${consume} call ${call} of ${cuts.length} (pieces ${cuts.length > 12 ? cuts.length + " cuts" : cuts.join(",")})`, want, got);
            agreed = false;
          }
        }
        if (want.ret !== -2 || !agreed || call === cuts.length - 1) {
          outcome(heavy ? "overhead" : "chunked", want.ret);
          break;
        }
      }
      tally.chunked++;
    }
  }
  return { found, tally, outcomes };
}

// ---- the tests ------------------------------------------------------------------------------

test("the oracle reproduces the rules of upstream picohttpparser.c it was written from", () => {
  const req = (s, lastLen = 0, cap = 10) => parseRequest(bytes(s), lastLen, cap);
  assert.equal(req("GET / HTTP/1.0\r\n\r\n").ret, 18);
  assert.equal(req("GET / HTTP/1.0\r\n\r").ret, -2);
  assert.equal(req("GET / HTTP/1.0").minorVersion, -1); // eight bytes after the target: not yet
  assert.equal(req("GET / HTTP/1.0\r").minorVersion, 0);
  assert.equal(req("GET ").method, 0);
  assert.equal(req(" / HTTP/1.0\r\n\r\n").ret, -1);
  assert.equal(req("G\tT / HTTP/1.0\r\n\r\n").ret, -1);
  assert.equal(req("GET / HTTP/1.10\r\n\r\n").ret, -1);
  assert.equal(req("GET /\x7f HTTP/1.0\r\n\r\n").ret, -1);
  assert.equal(req("GET / HTTP/1.0\r\nfoo : ab\r\n\r\n").ret, -1);
  assert.equal(req("GET / HTTP/1.0\r\n{: a\r\n\r\n").ret, -1);
  assert.equal(req("GET / HTTP/1.0\r\nA: b\r\nC: d\r\n\r\n", 0, 1).ret, -1); // capacity, not "partial"
  const folded = req("GET / HTTP/1.0\r\nfoo: \r\nfoo: b\r\n  \tc\r\n\r\n");
  assert.deepEqual(folded.headers[2], { name: null, nameLen: 0, value: 31, valueLen: 4 });
  assert.equal(req("GET / HTTP/1.0\r\nx: a \t \r\n\r\n").headers[0].valueLen, 1);
  // the slowloris scan starts at last_len - 3, so a head that ended before that looks partial
  assert.equal(req("GET / HTTP/1.0\r\n\r\nGET /x", 24).ret, -2);
  assert.equal(req("GET / HTTP/1.0\r\n\r\nGET /x", 17).ret, 18);
  const res = (s) => parseResponse(bytes(s), 0, 10);
  assert.deepEqual([res("HTTP/1.1 200\r\n\r\n").ret, res("HTTP/1.1 200X OK\r\n\r\n").ret, res("HTTP/1.1 500 Internal Server Error\r\n\r\n").msgLen], [16, -1, 21]);
  const chunked = (s, consume) => new ChunkedDecoder(consume).decode(bytes(s), s.length).ret;
  assert.equal(chunked("ffffffff\r\n", false), -2); // 8 digits: the most a 32-bit size_t holds
  assert.equal(chunked("fffffffff\r\n", false), -1);
  assert.equal(chunked("5\nabcde\r\n0\r\n", false), -1);
  assert.equal(chunked("1x\r\n", false), -1);
  assert.equal(chunked("5\r\nabcde\r\n0\r\nX: y\n\n", true), 0);
  assert.equal(chunked("5\r\nabcde\r\n0\r\nX: y\r\n\r\n", false), 8); // the trailer is left over
});

test("the oracle agrees with the expectations in wasm/test/cases.json", () => {
  const file = new URL("../wasm/test/cases.json", import.meta.url);
  const cases = JSON.parse(fs.readFileSync(file, "utf8"));
  const problems = [];
  const str = (input, off, len) => (off === null ? null : input.slice(off, off + len));
  for (const c of cases) {
    const input = bytes(c.input);
    const lastLen = c.last_len ?? 0;
    const cap = c.num_headers ?? 100;
    const got = {};
    if (c.fn === "chunked") {
      const buf = Uint8Array.from(input);
      const r = new ChunkedDecoder(c.consume_trailer).decode(buf, buf.length);
      got.ret = r.ret;
      if (c.decoded != null) got.decoded = Buffer.from(buf.subarray(0, r.bufsz)).toString("latin1");
    } else {
      const o = c.fn === "request" ? parseRequest(input, lastLen, cap) : c.fn === "response" ? parseResponse(input, lastLen, cap) : parseHeaders(input, lastLen, cap);
      got.ret = o.ret;
      if ("method" in c) got.method = str(c.input, o.method, o.methodLen);
      if ("path" in c) got.path = str(c.input, o.path, o.pathLen);
      if ("minor_version" in c) got.minor_version = o.minorVersion;
      if ("status" in c) got.status = o.status;
      if ("msg" in c) got.msg = str(c.input, o.msg, o.msgLen);
      if ("headers" in c) got.headers = o.headers.map((h) => [str(c.input, h.name, h.nameLen), str(c.input, h.value, h.valueLen)]);
    }
    const want = {};
    for (const k of Object.keys(got)) want[k] = c[k];
    if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${c.fn} "${c.name}": table ${JSON.stringify(want)} oracle ${JSON.stringify(got)}`);
  }
  assert.deepEqual(problems, []);
});

test(`the SIMD and scalar builds agree with the oracle on ${COUNT} generated inputs (seed ${SEED})`, () => {
  const started = Date.now();
  const { found, tally, outcomes } = runDifferential(SEED, COUNT);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`# oracle run: ${JSON.stringify(tally)} in ${seconds} s; outcomes ${JSON.stringify(outcomes)}`);
  for (const fn of ["request", "response", "headers", "chunked"]) {
    for (const end of ["ok", "-1", "-2"]) assert.ok(outcomes[`${fn} ${end}`] > 0, `the generator never made ${fn} end in ${end}`);
  }
  assert.deepEqual(found, []);
});

// Found by this oracle: the reason-phrase scan wrote msg_len before the line end was confirmed,
// so a failed or partial status line handed out msg NULL with msg_len 22. Upstream writes the
// pair only on success. (wasm/test/cases.json keeps the inputs; its format cannot say msg_len.)
test("both builds leave msg/msg_len unset when the reason phrase's line end fails", () => {
  for (const build of ["simd", "scalar"]) {
    const side = new WasmSide(build);
    for (const text of ["HTTP/1.1 200 Internal Server Error\r\r\n\r\n", "HTTP/1.1 200 OK\r", "HTTP/1.1 200 O\x01K\r\n\r\n", "HTTP/1.1 200 OK"]) {
      const got = side.response(bytes(text), 0, 10);
      assert.deepEqual(got, parseResponse(bytes(text), 0, 10), `${build}: ${JSON.stringify(text)}`);
      assert.deepEqual([got.msg, got.msgLen], [null, 0], `${build}: ${JSON.stringify(text)}`);
    }
  }
});
