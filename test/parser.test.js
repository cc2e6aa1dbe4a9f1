// The wasm parser and its binding, checked without a server: (a) the shared case table
// wasm/test/cases.json run straight through the phr_* exports of both builds (SIMD and scalar),
// each input placed at the very end of linear memory so that a read past it traps, as
// picohttpparser's test.c does with an unreadable page; (b) the src/http/parser.ts API the server
// uses; (c) that the committed artifacts match their sources. Runtime-independent: the same file
// runs under `node --test`, `bun test` and `deno test -A` (test/parser-runtimes.test.js runs the
// last two).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { createHash } from "node:crypto";
import { Buffer } from "node:buffer";
import process from "node:process";
import * as parser from "../dist/http/parser.js";
import { PARSER_SCALAR_WASM_BASE64, PARSER_WASM_BASE64 } from "../dist/http/parser-wasm.js";

// What a worker does with PRONGHORN_NO_WASM_SIMD=1 (Config.wasmSimd): the first requestParser()
// call of the process picks the build.
const P = parser.requestParser(process.env.PRONGHORN_NO_WASM_SIMD === "1" ? "scalar" : "simd");

const root = new URL("../", import.meta.url);
const CASES_FILE = new URL("wasm/test/cases.json", root);
const CASES = fs.existsSync(CASES_FILE) ? JSON.parse(fs.readFileSync(CASES_FILE, "utf8")) : null;

/** Each char U+0000..U+00FF of a case string is one byte. */
function bytes(text) {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) throw new Error(`case string has char U+${c.toString(16)} beyond latin1`);
    out[i] = c;
  }
  return out;
}

function latin1(mem, ptr, len) {
  let s = "";
  for (let i = 0; i < len; i++) s += String.fromCharCode(mem[ptr + i]);
  return s;
}

// ---- (a) the case table, through the raw exports -------------------------------------------

const HEADER_SLOTS = 1024;
const HEADER_BYTES = 16; // struct phr_header on wasm32: four 32-bit words
// Output slots: the phr_* out-parameters, one 32-bit word each.
const O_METHOD = 0, O_METHOD_LEN = 4, O_PATH = 8, O_PATH_LEN = 12, O_MINOR = 16, O_NUM_HEADERS = 20;
const O_STATUS = 24, O_MSG = 28, O_MSG_LEN = 32, O_BUFSZ = 36;

/** One fresh module instance plus the out-parameter areas the phr_* calls write to. */
class RawHarness {
  constructor(build) {
    this.e = parser.newRawInstance(build);
    this.mem = new Uint8Array(this.e.memory.buffer);
    this.view = new DataView(this.e.memory.buffer);
    this.out = this.e.malloc(64);
    this.headers = this.e.malloc(HEADER_SLOTS * HEADER_BYTES);
    this.decoder = this.e.malloc(32);
    // Inputs go at the very end of memory; malloc must not have handed any of it out.
    assert.ok(this.headers + HEADER_SLOTS * HEADER_BYTES < this.mem.length - (1 << 20), "heap reaches the last MiB");
  }
  word(off) { return this.view.getInt32(this.out + off, true); }
  setWord(off, v) { this.view.setInt32(this.out + off, v, true); }
  /** Copy `input` so that its last byte is the last byte of linear memory; returns its address. */
  atEnd(input) {
    const ptr = this.mem.length - input.length;
    this.mem.set(input, ptr);
    return ptr;
  }
  /** Poison the outputs, so a parser that leaves one unset cannot pass by luck. */
  poison(capacity) {
    this.mem.fill(0xaa, this.out, this.out + 64);
    this.setWord(O_NUM_HEADERS, capacity);
  }
  str(ptrOff, lenOff) {
    const ptr = this.word(ptrOff) >>> 0;
    return ptr === 0 ? null : latin1(this.mem, ptr, this.word(lenOff));
  }
  headerList() {
    const list = [];
    for (let i = 0; i < this.word(O_NUM_HEADERS); i++) {
      const h = this.headers + i * HEADER_BYTES;
      const v = (k) => this.view.getUint32(h + 4 * k, true);
      list.push([v(0) === 0 ? null : latin1(this.mem, v(0), v(1)), latin1(this.mem, v(2), v(3))]);
    }
    return list;
  }
}

function checkHead(h, c, ret) {
  const at = `${c.fn} "${c.name}"`;
  assert.equal(ret, c.ret, `${at}: return value`);
  if ("method" in c) assert.equal(h.str(O_METHOD, O_METHOD_LEN), c.method, `${at}: method`);
  if ("path" in c) assert.equal(h.str(O_PATH, O_PATH_LEN), c.path, `${at}: path`);
  if ("minor_version" in c) assert.equal(h.word(O_MINOR), c.minor_version, `${at}: minor_version`);
  if ("status" in c) assert.equal(h.word(O_STATUS), c.status, `${at}: status`);
  if ("msg" in c) assert.equal(h.str(O_MSG, O_MSG_LEN), c.msg, `${at}: msg`);
  if ("headers" in c) assert.deepEqual(h.headerList(), c.headers, `${at}: headers`);
}

function runHeadCase(h, c) {
  const input = bytes(c.input);
  const capacity = c.num_headers ?? 100;
  assert.ok(capacity <= HEADER_SLOTS, `case asks for ${capacity} header slots, the harness has ${HEADER_SLOTS}`);
  h.poison(capacity);
  const ptr = h.atEnd(input);
  const o = h.out;
  const lastLen = c.last_len ?? 0;
  let ret;
  if (c.fn === "request") {
    ret = h.e.phr_parse_request(ptr, input.length, o + O_METHOD, o + O_METHOD_LEN, o + O_PATH, o + O_PATH_LEN,
      o + O_MINOR, h.headers, o + O_NUM_HEADERS, lastLen);
  } else if (c.fn === "response") {
    ret = h.e.phr_parse_response(ptr, input.length, o + O_MINOR, o + O_STATUS, o + O_MSG, o + O_MSG_LEN,
      h.headers, o + O_NUM_HEADERS, lastLen);
  } else {
    ret = h.e.phr_parse_headers(ptr, input.length, h.headers, o + O_NUM_HEADERS, lastLen);
  }
  checkHead(h, c, ret);
}

function freshDecoder(h, c) {
  h.mem.fill(0, h.decoder, h.decoder + 32);
  h.mem[h.decoder + 4] = c.consume_trailer ? 1 : 0; // consume_trailer follows the size_t at 0
}

function runChunkedCase(h, c) {
  const at = `chunked "${c.name}"`;
  const input = bytes(c.input);
  // All at once.
  freshDecoder(h, c);
  const ptr = h.atEnd(input);
  h.setWord(O_BUFSZ, input.length);
  const ret = h.e.phr_decode_chunked(h.decoder, ptr, h.out + O_BUFSZ);
  assert.equal(ret, c.ret, `${at}, whole: return value`);
  const decodedLen = h.word(O_BUFSZ);
  if (c.decoded != null) assert.equal(latin1(h.mem, ptr, decodedLen), c.decoded, `${at}, whole: decoded`);
  if (ret >= 0) {
    // The undecoded rest sits right after the decoded data (picohttpparser PR #72).
    assert.equal(latin1(h.mem, ptr + decodedLen, ret), c.input.slice(c.input.length - ret), `${at}, whole: left-over bytes`);
  }
  if (c.bytewise === false) return;
  // One byte per call, each byte the last byte of memory.
  freshDecoder(h, c);
  const last = h.mem.length - 1;
  let decoded = "";
  let final = -2;
  for (let i = 0; i < input.length; i++) {
    h.mem[last] = input[i];
    h.setWord(O_BUFSZ, 1);
    const r = h.e.phr_decode_chunked(h.decoder, last, h.out + O_BUFSZ);
    if (h.word(O_BUFSZ) === 1) decoded += String.fromCharCode(h.mem[last]);
    if (r === -2) continue;
    final = r === -1 ? -1 : r + (input.length - 1 - i);
    break;
  }
  assert.equal(final, c.ret, `${at}, byte by byte: return value`);
  if (c.decoded != null && final !== -1) assert.equal(decoded, c.decoded, `${at}, byte by byte: decoded`);
}

test("the shared case table wasm/test/cases.json exists and covers every phr_* function", () => {
  assert.ok(CASES !== null, "wasm/test/cases.json is missing");
  for (const fn of ["request", "response", "headers", "chunked"]) {
    assert.ok(CASES.some((c) => c.fn === fn), `no "${fn}" case in wasm/test/cases.json`);
  }
});

for (const build of ["simd", "scalar"]) {
  let harness = null;
  const h = () => (harness ??= new RawHarness(build));
  test(`${build} build: reports whether it has the SIMD128 scans`, () => {
    assert.equal(h().e.pg_simd(), build === "simd" ? 1 : 0);
  });
  for (const c of CASES ?? []) {
    test(`${build} build: ${c.fn}: ${c.name}`, () => {
      if (c.fn === "chunked") runChunkedCase(h(), c);
      else runHeadCase(h(), c);
    });
  }
}

// ---- (b) the binding ------------------------------------------------------------------------

const enc = (text) => bytes(text);

function headersOf() {
  const list = [];
  for (let i = 0; i < P.headerCount(); i++) list.push([P.headerName(i), P.headerValue(i)]);
  return list;
}

test("the constants mirror picohttpparser's returns and batch.h", () => {
  assert.equal(parser.PARSE_ERROR, -1);
  assert.equal(parser.PARSE_PARTIAL, -2);
  assert.equal(parser.PARSE_TOO_MANY_HEADERS, -3);
  assert.equal(parser.MAX_HEADERS, 256);
});

test("loads the SIMD build unless told not to, and its memory is fixed at 16 MiB", () => {
  const simd = process.env.PRONGHORN_NO_WASM_SIMD !== "1";
  assert.equal(parser.isSimd(), simd);
  assert.equal(parser.rawExports().pg_simd(), simd ? 1 : 0);
  const mem = parser.wasmBytes();
  assert.equal(mem.length, 16 * 1024 * 1024);
  const ptr = parser.reserve(100_000);
  assert.ok(ptr > 0 && ptr + 100_000 <= mem.length);
  assert.equal(parser.wasmBytes(), mem, "wasmBytes() returns the one view");
  assert.equal(mem.length, 16 * 1024 * 1024, "the view is not detached by allocation");
});

test("reserve() refuses what does not fit in the fixed memory, with a message", () => {
  assert.throws(() => parser.reserve(32 * 1024 * 1024), /pronghorn: cannot reserve 33554432 bytes/);
});

test("RequestParser.parseBytes: method, target, version and headers as sent", () => {
  const text = "POST /a/b?c=d%20e HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\nX-Empty: \r\nX-Trim: v \t\r\n\r\nhello";
  const ret = P.parseBytes(enc(text), 0);
  assert.equal(ret, text.length - 5);
  assert.equal(P.method(), "POST");
  assert.equal(P.target(), "/a/b?c=d%20e");
  assert.equal(P.minorVersion(), 1);
  assert.deepEqual(headersOf(), [["Host", "example.com"], ["Content-Length", "5"], ["X-Empty", ""], ["X-Trim", "v"]]);
});

test("RequestParser.parse reads a head the caller placed in reserved wasm memory", () => {
  const text = "GET /x HTTP/1.0\r\nA: 1\r\n\r\n";
  const ptr = parser.reserve(4096);
  parser.wasmBytes().set(enc(text), ptr);
  assert.equal(P.parse(ptr, text.length, 0), text.length);
  assert.equal(P.method(), "GET");
  assert.equal(P.target(), "/x");
  assert.equal(P.minorVersion(), 0);
  assert.deepEqual(headersOf(), [["A", "1"]]);
});

test("header bytes decode as latin1, one char per byte (not windows-1252)", () => {
  const text = "GET /caf\xe9\x80 HTTP/1.1\r\nX-Bytes: \x80\x9f\xa0\xff\r\n\r\n";
  assert.equal(P.parseBytes(enc(text), 0), text.length);
  assert.equal(P.target(), "/caf\u00e9\u0080");
  assert.equal(P.headerValue(0), "\u0080\u009f\u00a0\u00ff");
});

test("an obs-fold continuation line has a null name and keeps its leading whitespace", () => {
  const text = "GET / HTTP/1.1\r\nX-Long: a\r\n  \tb\r\n\r\n";
  assert.equal(P.parseBytes(enc(text), 0), text.length);
  assert.deepEqual(headersOf(), [["X-Long", "a"], [null, "  \tb"]]);
  assert.equal(P.headerNameIs(1, "x-long"), false);
});

test("headerNameIs folds ASCII letters only and compares whole names", () => {
  const text = "GET / HTTP/1.1\r\nCoNtEnT-LeNgTh: 0\r\nX-^: 1\r\nTransfer-Encoding: chunked\r\n\r\n";
  assert.equal(P.parseBytes(enc(text), 0), text.length);
  assert.equal(P.headerNameIs(0, "content-length"), true);
  assert.equal(P.headerNameIs(0, "content-lengt"), false);
  assert.equal(P.headerNameIs(0, "content-lengthx"), false);
  assert.equal(P.headerNameIs(1, "x-^"), true);
  assert.equal(P.headerNameIs(1, "x-~"), false, '"^" | 0x20 is "~": only A-Z may fold');
  assert.equal(P.headerNameIs(2, "transfer-encoding"), true);
  assert.equal(P.headerNameIs(2, "content-length"), false);
});

test("a partial head returns PARSE_PARTIAL, and last_len lets the retry skip the rescan", () => {
  const text = "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n";
  assert.equal(P.parseBytes(enc(text.slice(0, 20)), 0), parser.PARSE_PARTIAL);
  assert.throws(() => P.method(), /no.*successful parse|there is none/);
  assert.equal(P.parseBytes(enc(text.slice(0, text.length - 1)), 20), parser.PARSE_PARTIAL);
  assert.equal(P.parseBytes(enc(text), text.length - 1), text.length);
  assert.equal(P.target(), "/slow");
});

test("a malformed head returns PARSE_ERROR", () => {
  assert.equal(P.parseBytes(enc("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n"), 0), parser.PARSE_ERROR);
  assert.equal(P.parseBytes(enc("G\tT / HTTP/1.1\r\n\r\n"), 0), parser.PARSE_ERROR);
});

function manyHeaders(n) {
  let text = "GET / HTTP/1.1\r\n";
  for (let i = 0; i < n; i++) text += `H${i}: ${i}\r\n`;
  return text + "\r\n";
}

test("MAX_HEADERS header lines parse; one more returns PARSE_TOO_MANY_HEADERS", () => {
  const ok = manyHeaders(parser.MAX_HEADERS);
  assert.equal(P.parseBytes(enc(ok), 0), ok.length);
  assert.equal(P.headerCount(), parser.MAX_HEADERS);
  assert.deepEqual([P.headerName(255), P.headerValue(255)], ["H255", "255"]);
  const over = manyHeaders(parser.MAX_HEADERS + 1);
  assert.equal(P.parseBytes(enc(over), 0), parser.PARSE_TOO_MANY_HEADERS);
});

test("a head larger than the 64 KiB scratch area grows it, and small heads still parse after", () => {
  const big = "x".repeat(300_000);
  const text = `GET /big HTTP/1.1\r\nX-Big: ${big}\r\nHost: h\r\n\r\n`;
  assert.equal(P.parseBytes(enc(text), 0), text.length);
  assert.equal(P.headerValue(0), big);
  assert.equal(P.headerValue(1), "h");
  const small = "GET /s HTTP/1.1\r\n\r\n";
  assert.equal(P.parseBytes(enc(small), 0), small.length);
  assert.equal(P.target(), "/s");
});

// ChunkedDecoder

function decodeAll(decoder, pieces) {
  let payload = "";
  let ret = parser.PARSE_PARTIAL;
  const rets = [];
  for (const piece of pieces) {
    ret = decoder.decode(piece, (data) => {
      assert.ok(data instanceof Uint8Array);
      assert.notEqual(data.buffer, parser.wasmBytes().buffer, "payload must be a copy, not a view into wasm memory");
      payload += latin1(data, 0, data.length);
    });
    rets.push(ret);
    if (ret !== parser.PARSE_PARTIAL) break;
  }
  return { payload, ret, rets };
}

const NEXT = "GET /next HTTP/1.1\r\n\r\n";
const BODY = "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: t\r\n\r\n";

test("ChunkedDecoder decodes a whole body and reports the pipelined bytes after it", () => {
  const d = new parser.ChunkedDecoder();
  const input = enc(BODY + NEXT);
  const { payload, ret } = decodeAll(d, [input]);
  assert.equal(payload, "hello world");
  assert.equal(ret, NEXT.length);
  assert.equal(latin1(input, input.length - ret, ret), NEXT);
  d.dispose();
});

test("ChunkedDecoder fed byte by byte gives the same payload, partial until the end", () => {
  const d = new parser.ChunkedDecoder();
  const input = enc(BODY + NEXT);
  const pieces = Array.from(input, (b) => Uint8Array.of(b));
  const { payload, ret, rets } = decodeAll(d, pieces);
  assert.equal(payload, "hello world");
  assert.equal(ret, 0, "the body ends on the last byte of its piece");
  assert.equal(rets.length, BODY.length, "complete exactly at the body's last byte");
  assert.ok(rets.slice(0, -1).every((r) => r === parser.PARSE_PARTIAL));
  d.dispose();
});

test("ChunkedDecoder reports inData while inside chunk data", () => {
  const d = new parser.ChunkedDecoder();
  assert.equal(d.decode(enc("5\r\nhe"), () => {}), parser.PARSE_PARTIAL);
  assert.equal(d.inData, true);
  assert.equal(d.decode(enc("llo\r\n"), () => {}), parser.PARSE_PARTIAL);
  assert.equal(d.inData, false);
  d.dispose();
});

test("ChunkedDecoder without consumeTrailer leaves the trailer section to the caller", () => {
  const d = new parser.ChunkedDecoder(false);
  const trailer = "Trailer: t\r\n\r\n";
  const { payload, ret } = decodeAll(d, [enc("3\r\nabc\r\n0\r\n" + trailer)]);
  assert.equal(payload, "abc");
  assert.equal(ret, trailer.length);
  d.dispose();
});

test("ChunkedDecoder decodes a body larger than its 64 KiB copy-in piece", () => {
  const chunk = "z".repeat(200_000);
  const body = `${chunk.length.toString(16)}\r\n${chunk}\r\n` + `3\r\nend\r\n0\r\n\r\n`;
  const d = new parser.ChunkedDecoder();
  const { payload, ret } = decodeAll(d, [enc(body + NEXT)]);
  assert.equal(payload, chunk + "end");
  assert.equal(ret, NEXT.length);
  d.dispose();
});

test("ChunkedDecoder returns PARSE_ERROR on a malformed chunk size, and refuses use after dispose", () => {
  const d = new parser.ChunkedDecoder();
  assert.equal(d.decode(enc("5x\r\nhello\r\n0\r\n\r\n"), () => {}), parser.PARSE_ERROR);
  d.dispose();
  assert.throws(() => d.decode(enc("0\r\n\r\n"), () => {}), /after dispose/);
});

test("ChunkedDecoder accepts exactly RFC 9112 §7.1: the chunk-ext grammar, trailer field lines, CRLF only", () => {
  const ok = [
    "3;a\r\nabc\r\n0\r\n\r\n",
    "3 ; a = b ;c=\"q \\\" \xe9\"\r\nabc\r\n0\r\n\r\n",
    "3\r\nabc\r\n0\r\nT: 1\r\nU:\r\n\r\n",
  ];
  for (const body of ok) {
    const d = new parser.ChunkedDecoder();
    const { payload, ret } = decodeAll(d, [enc(body)]);
    assert.deepEqual([payload, ret], ["abc", 0], JSON.stringify(body));
    d.dispose();
  }
  const bad = [
    "3 \r\nabc\r\n0\r\n\r\n", "3;\r\nabc\r\n0\r\n\r\n", "3;a=\r\nabc\r\n0\r\n\r\n", "3;a b\r\nabc\r\n0\r\n\r\n",
    "3;a=\"x\r\nabc\r\n0\r\n\r\n", "3;a=b c\r\nabc\r\n0\r\n\r\n", "3;a\nabc\r\n0\r\n\r\n",
    "3\r\nabc\r\n0\r\nGET / HTTP/1.1\r\n\r\n", "3\r\nabc\r\n0\r\nT: 1\r\n folded\r\n\r\n",
    "3\r\nabc\r\n0\r\nT: a\rb\r\n\r\n", "3\r\nabc\r\n0\r\nT: 1\n\r\n",
  ];
  for (const body of bad) {
    for (const pieces of [[enc(body)], Array.from(enc(body), (b) => Uint8Array.of(b))]) {
      const d = new parser.ChunkedDecoder();
      assert.equal(decodeAll(d, pieces).ret, parser.CHUNKED_MALFORMED, `${JSON.stringify(body)} in ${pieces.length} piece(s)`);
      d.dispose();
    }
  }
});

test("ChunkedDecoder refuses chunk extensions past CHUNK_EXT_MAX_BYTES per body before the line ends", () => {
  let d = new parser.ChunkedDecoder();
  const line = `1;${"a".repeat(parser.CHUNK_EXT_MAX_BYTES - 1)}`;
  assert.equal(d.decode(enc(line), () => {}), parser.PARSE_PARTIAL, "exactly the cap");
  assert.equal(d.decode(enc("a"), () => {}), parser.CHUNKED_EXT_TOO_LONG, "one byte more, with no CRLF yet");
  d.dispose();
  d = new parser.ChunkedDecoder();
  const many = "1;e=0123456789\r\nx\r\n".repeat(Math.ceil(parser.CHUNK_EXT_MAX_BYTES / 13) + 1);
  assert.equal(decodeAll(d, [enc(many)]).ret, parser.CHUNKED_EXT_TOO_LONG, "the cap counts the whole body");
  assert.match(parser.chunkedError(parser.CHUNKED_EXT_TOO_LONG), /chunk extensions over 16384 bytes/);
  d.dispose();
});

test("ChunkedDecoder with maxBytes refuses a chunk size past it as soon as the size is read", () => {
  let d = new parser.ChunkedDecoder(true, 10);
  let got = 0;
  assert.equal(d.decode(enc("5\r\nabcde\r\n"), (p) => { got += p.length; }), parser.PARSE_PARTIAL);
  assert.equal(d.decode(enc("6\r"), () => assert.fail("no payload")), parser.CHUNKED_TOO_LARGE);
  assert.equal(got, 5);
  d.dispose();
  d = new parser.ChunkedDecoder(true, 10);
  assert.equal(decodeAll(d, [enc("a\r\n0123456789\r\n0\r\n\r\n")]).ret, 0, "exactly maxBytes, in a new decoder");
  d.dispose();
});

// ---- (c) the artifacts match their sources --------------------------------------------------

const REBUILD = "run `npm run build:wasm` and commit the result";

test("parser-wasm.ts holds exactly wasm/parser.wasm and wasm/parser-scalar.wasm", () => {
  for (const [b64, file] of [[PARSER_WASM_BASE64, "wasm/parser.wasm"], [PARSER_SCALAR_WASM_BASE64, "wasm/parser-scalar.wasm"]]) {
    const fromTs = createHash("sha256").update(Buffer.from(b64, "base64")).digest("hex");
    const onDisk = createHash("sha256").update(fs.readFileSync(new URL(file, root))).digest("hex");
    assert.equal(fromTs, onDisk, `src/http/parser-wasm.ts is stale against ${file}: ${REBUILD}`);
  }
});

test("wasm/parser.stamp matches wasm/src and wasm/build.sh (the recipe atop build.sh)", () => {
  const files = ["wasm/build.sh", ...fs.readdirSync(new URL("wasm/src/", root), { withFileTypes: true })
    .filter((d) => d.isFile()).map((d) => `wasm/src/${d.name}`)].sort();
  const hash = createHash("sha256");
  for (const file of files) {
    hash.update(`${file}\n`);
    hash.update(fs.readFileSync(new URL(file, root)));
  }
  const stamp = fs.readFileSync(new URL("wasm/parser.stamp", root), "utf8");
  assert.equal(stamp, `${hash.digest("hex")}\n`, `wasm/parser.wasm is stale against ${files.join(", ")}: ${REBUILD}`);
  const generated = fs.readFileSync(new URL("src/http/parser-wasm.ts", root), "utf8");
  assert.ok(generated.includes(`(stamp ${stamp.trim()})`), `src/http/parser-wasm.ts was not generated with this stamp: ${REBUILD}`);
});
