// Response-head serialiser: the plain TypeScript path (string concatenation, encoded by the
// socket write) against an AssemblyScript kernel writing into wasm memory (response-head/,
// built with `npx asc bench/response-head/head.as.ts -O3 --runtime stub --noAssert -o
// bench/response-head/head.wasm`). Both produce the bytes of the same head + body; they are
// checked equal before timing. Results and the decision: bench/response-head.md.
//
//   node bench/response-head.bench.js
import { Bench } from "tinybench";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const { instance } = await WebAssembly.instantiate(fs.readFileSync(path.join(HERE, "response-head/head.wasm")), { env: { abort() { throw new Error("abort"); } } });
const k = instance.exports;
const mem = new Uint8Array(k.memory.buffer);
const BASE = 4096;

const HEADERS = [["content-type", "text/plain;charset=UTF-8"], ["x-request-id", "4f9c2a7e-1b3d-4c5e-9f00-123456789abc"]];
const DATE = "Tue, 24 Nov 2026 06:00:00 GMT";
const BODY = "Hello, World!";

// The TypeScript path, as finalHead() in src/http/response-head.ts builds it (planResponse() in
// src/http/response-plan.ts appends a short string body); Buffer.from stands for the encode
// that socket.write(string) does in C++.
function tsHead() {
  let lines = "";
  for (const [n, v] of HEADERS) lines += `${n}: ${v}\r\n`;
  const s = `HTTP/1.1 200 OK\r\n${lines}date: ${DATE}\r\ncontent-length: ${BODY.length}\r\n\r\n${BODY}`;
  return Buffer.from(s, "latin1");
}

function put(p, s) {
  for (let i = 0; i < s.length; i++) mem[p + i] = s.charCodeAt(i);
  return s.length;
}

// The AssemblyScript path: JS copies the strings in (they are JS strings), the kernel writes
// the fixed parts, and the result is copied out (the socket may hold on to it).
function asHead() {
  let p = BASE;
  p += k.statusLine(p, 200);
  for (const [n, v] of HEADERS) {
    p += put(p, n);
    mem[p++] = 0x3a;
    mem[p++] = 0x20;
    p += put(p, v);
    p += k.crlf(p);
  }
  p += put(p, "date: ");
  p += put(p, DATE);
  p += k.crlf(p);
  p += k.decimalLine(p, BODY.length);
  p += k.crlf(p);
  p += put(p, BODY);
  return mem.slice(BASE, p);
}

function tsChunk(n) {
  return `${n.toString(16)}\r\n`;
}
function asChunk(n) {
  const len = k.chunkSize(BASE, n);
  return mem.slice(BASE, BASE + len);
}

assert.deepEqual(Buffer.from(asHead()), tsHead());
assert.equal(Buffer.from(asChunk(65536)).toString("latin1"), tsChunk(65536));

const bench = new Bench({ time: 500 });
bench
  .add("head+body: TypeScript strings", () => tsHead())
  .add("head+body: AssemblyScript kernel", () => asHead())
  .add("chunk size line: TypeScript", () => tsChunk(65536))
  .add("chunk size line: AssemblyScript", () => asChunk(65536));
await bench.run();
console.table(bench.table());
