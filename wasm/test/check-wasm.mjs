// Developer check of the built modules (the TypeScript suite is the real wasm test): runs
// cases.json against wasm/parser.wasm and wasm/parser-scalar.wasm through the raw phr_* exports,
// each input at the very end of linear memory so an over-read traps, then feeds both modules the
// same random inputs (mutated requests and chunked bodies) and fails on any difference.
// Usage: node wasm/test/check-wasm.mjs [random-iterations=200000]
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const cases = JSON.parse(readFileSync(here("./cases.json"), "latin1"));
const iterations = Number(process.argv[2] ?? 200000);

async function load(file) {
  const { instance } = await WebAssembly.instantiate(readFileSync(here(`../${file}`)), {});
  const e = instance.exports;
  e._initialize?.();
  const out = e.malloc(64 + 16 * 300);
  const dec = e.malloc(32);
  const api = {
    e,
    u8: () => new Uint8Array(e.memory.buffer),
    u32: () => new Uint32Array(e.memory.buffer),
    // copies bytes to the end of memory; returns their address
    place(bytes) {
      const at = e.memory.buffer.byteLength - bytes.length;
      api.u8().set(bytes, at);
      return at;
    },
    str(addr, len) {
      return Buffer.from(api.u8().subarray(addr, addr + len)).toString("latin1");
    },
    headers(n) {
      const w = api.u32(), hs = [];
      for (let i = 0; i < n; ++i) {
        const b = (out + 64) / 4 + 4 * i;
        hs.push([w[b] === 0 ? null : api.str(w[b], w[b + 1]), api.str(w[b + 2], w[b + 3])]);
      }
      return hs;
    },
    request(input, lastLen, cap = 100) {
      const buf = api.place(input);
      api.u32()[(out + 24) / 4] = cap;
      const ret = e.phr_parse_request(buf, input.length, out, out + 4, out + 8, out + 12, out + 16, out + 64, out + 24, lastLen);
      const w = api.u32();
      const r = { ret, method: w[out / 4] === 0 ? null : api.str(w[out / 4], w[out / 4 + 1]), minor_version: new Int32Array(e.memory.buffer)[(out + 16) / 4] };
      if (ret > 0) Object.assign(r, { path: api.str(w[out / 4 + 2], w[out / 4 + 3]), headers: api.headers(w[(out + 24) / 4]) });
      return r;
    },
    response(input, lastLen, cap = 100) {
      const buf = api.place(input);
      api.u32()[(out + 24) / 4] = cap;
      const ret = e.phr_parse_response(buf, input.length, out + 16, out + 20, out, out + 4, out + 64, out + 24, lastLen);
      const w = api.u32(), i32 = new Int32Array(e.memory.buffer);
      if (ret <= 0) return { ret };
      return { ret, minor_version: i32[(out + 16) / 4], status: i32[(out + 20) / 4], msg: api.str(w[out / 4], w[out / 4 + 1]), headers: api.headers(w[(out + 24) / 4]) };
    },
    headersFn(input, lastLen, cap = 100) {
      const buf = api.place(input);
      api.u32()[(out + 24) / 4] = cap;
      const ret = e.phr_parse_headers(buf, input.length, out + 64, out + 24, lastLen);
      return ret > 0 ? { ret, headers: api.headers(api.u32()[(out + 24) / 4]) } : { ret };
    },
    // phr_decode_chunked: whole input at once, or one byte per call up to the body's last byte (like test.c)
    chunked(input, consumeTrailer, bytewise, expectRet) {
      api.u8().fill(0, dec, dec + 32); // struct phr_chunked_decoder, 24 bytes on wasm32
      api.u8()[dec + 4] = consumeTrailer ? 1 : 0;
      const buf = api.place(input);
      const call = (at, n) => {
        api.u32()[(out + 32) / 4] = n;
        const r = e.phr_decode_chunked(dec, at, out + 32);
        return [r, api.u32()[(out + 32) / 4]];
      };
      let ret, ready = 0, n;
      if (!bytewise) {
        [ret, ready] = call(buf, input.length);
      } else {
        const until = expectRet >= 0 ? input.length - expectRet - 1 : input.length;
        ret = -2;
        for (let i = 0; i < until && ret === -2; ++i) {
          api.u8()[buf + ready] = input[i];
          [ret, n] = call(buf + ready, 1);
          ready += n;
        }
        if (expectRet >= 0 && ret === -2) {
          api.u8().set(input.subarray(until), buf + ready);
          [ret, n] = call(buf + ready, input.length - until);
          ready += n;
        }
      }
      return { ret, decoded: api.str(buf, ready), rest: ret >= 0 ? api.str(buf + ready, ret) : null };
    },
    // pg_decode_chunked, the server's strict decoder, all at once
    strictChunked(input, consumeTrailer) {
      const d = e.pg_chunked_new(consumeTrailer ? 1 : 0, 0);
      const buf = api.place(input);
      const ret = e.pg_decode_chunked(d, buf, input.length);
      const ready = api.u32()[e.pg_result() / 4];
      e.pg_chunked_free(d);
      return { ret, decoded: api.str(buf, ready) };
    },
  };
  return api;
}

const modules = { simd: await load("parser.wasm"), scalar: await load("parser-scalar.wasm") };
let pass = 0, fail = 0;
const eq = (a, b) => JSON.stringify(a) === JSON.stringify(b);
for (const [kind, m] of Object.entries(modules)) {
  for (const c of cases) {
    const input = Buffer.from(c.input, "latin1");
    const bad = [];
    if (c.fn === "chunked") {
      for (const bytewise of c.bytewise === false ? [false] : [false, true]) {
        const r = m.chunked(input, c.consume_trailer, bytewise, c.ret);
        if (r.ret !== c.ret) bad.push(`${bytewise ? "bytewise" : "whole"} ret ${r.ret}`);
        else if (c.decoded !== null && r.decoded !== c.decoded) bad.push(`decoded ${JSON.stringify(r.decoded)}`);
        else if (c.ret >= 0 && r.rest !== c.input.slice(c.input.length - c.ret)) bad.push("leftover");
      }
    } else {
      const r = c.fn === "request" ? m.request(input, c.last_len, c.num_headers) : c.fn === "response" ? m.response(input, c.last_len, c.num_headers) : m.headersFn(input, c.last_len, c.num_headers);
      if (r.ret !== c.ret) bad.push(`ret ${r.ret}`);
      for (const k of ["method", "path", "minor_version", "status", "msg", "headers"]) {
        if (k in c && (c.ret > 0 || k === "method" || k === "minor_version") && !eq(r[k], c[k])) bad.push(`${k} ${JSON.stringify(r[k])}`);
      }
    }
    if (bad.length) {
      ++fail;
      if (fail < 20) console.log(`FAIL [${kind}] ${c.fn}: ${c.name}: ${bad.join("; ")}`);
    } else ++pass;
  }
}
console.log(`check-wasm cases: ${pass} passed, ${fail} failed (both modules)`);

// differential: SIMD module vs scalar module on random mutations of valid inputs
let seed = 12345;
const rand = (n) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
const seeds = cases.filter((c) => c.ret > 0).map((c) => Buffer.from(c.input, "latin1"));
const alphabet = Buffer.from(" \t\r\n:;/aZ0f\u007f\u0000\u0080\u00ff|~{", "latin1");
let diffs = 0;
const stats = {};
for (let i = 0; i < iterations; ++i) {
  const base = seeds[rand(seeds.length)];
  const input = Buffer.from(base);
  for (let k = rand(4); k >= 0; --k) input[rand(input.length)] = rand(2) ? alphabet[rand(alphabet.length)] : rand(256);
  const cut = rand(3) === 0 ? input.subarray(0, rand(input.length + 1)) : input;
  const lastLen = rand(4) === 0 ? rand(cut.length + 1) : 0;
  const ct = rand(2);
  const run = (m) => [m.request(cut, lastLen), m.response(cut, lastLen), m.headersFn(cut, lastLen), m.chunked(cut, ct, false, 0), m.strictChunked(cut, ct)];
  const a = run(modules.simd), b = run(modules.scalar);
  stats[`${a[0].ret > 0 ? "ok" : a[0].ret}/${a[3].ret >= 0 ? "ok" : a[3].ret}`] = (stats[`${a[0].ret > 0 ? "ok" : a[0].ret}/${a[3].ret >= 0 ? "ok" : a[3].ret}`] ?? 0) + 1;
  if (!eq(a, b)) {
    if (++diffs < 5) console.log(`DIFF on ${JSON.stringify(cut.toString("latin1"))} last_len ${lastLen}:\n  simd   ${JSON.stringify(a)}\n  scalar ${JSON.stringify(b)}`);
  }
}
console.log(`check-wasm differential: ${iterations} random inputs (request/chunked results: ${JSON.stringify(stats)}), ${diffs} differences between parser.wasm and parser-scalar.wasm`);
process.exit(fail || diffs ? 1 : 0);
