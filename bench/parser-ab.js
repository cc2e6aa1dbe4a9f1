// A/B timing of wasm parser builds: pg_parse_request alone (no JS strings), on the request shapes
// of bench/parser-requests.js. All builds load into one process, each with its own instance and
// its own timing closure, and the samples interleave build by build (about --ms milliseconds
// each, order reversed every other round), so load from other processes falls on every build
// alike, and each sample is CPU time (process.cpuUsage), not wall time. Reports per build and shape the median and the minimum ns per parse, and the median of
// the per-round ratios to the first build (< 1 is faster).
//
//   node bench/parser-ab.js [--rounds 40] [--ms 20] a.wasm b.wasm ...
//
// How bench/parser.md used it: wasm/parser-scalar.wasm and wasm/parser.wasm, then candidates.
import { readFileSync } from "node:fs";
import { REQUESTS } from "./parser-requests.js";

const args = process.argv.slice(2);
const opt = (flag, fallback) => {
  const i = args.indexOf(flag);
  if (i === -1) return fallback;
  const v = Number(args[i + 1]);
  args.splice(i, 2);
  return v;
};
const rounds = opt("--rounds", 40);
const ms = opt("--ms", 20);
const files = args;
if (files.length === 0) throw new Error("usage: node bench/parser-ab.js [--rounds N] [--ms T] a.wasm b.wasm ...");
const labels = Object.keys(REQUESTS);

// one timing loop per build and shape, compiled separately so no call site sees two instances
function makeRunner(file, text) {
  const e = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(file)), {}).exports;
  e._initialize?.();
  const bytes = Buffer.from(text, "latin1");
  const at = e.malloc(bytes.length + 64);
  new Uint8Array(e.memory.buffer).set(bytes, at);
  if (e.pg_parse_request(at, bytes.length, 0) !== bytes.length) throw new Error(`${file}: no whole parse`);
  // eslint-disable-next-line no-new-func
  const loop = new Function("parse", "at", "len", `return function run(n) { let s = 0; for (let i = 0; i < n; i++) s += parse(at, len, 0); return s; };`)(
    e.pg_parse_request, at, bytes.length);
  return loop;
}

const runners = files.map((f) => labels.map((l) => makeRunner(f, REQUESTS[l])));
const iters = labels.map(() => 0);
// warm up (tier-up to TurboFan) and calibrate iterations per sample on the first build
for (const row of runners) for (const run of row) run(200000);
for (const [j] of labels.entries()) {
  let n = 1000;
  for (;;) {
    const t = process.hrtime.bigint();
    runners[0][j](n);
    if (Number(process.hrtime.bigint() - t) / 1e6 >= ms) break;
    n *= 2;
  }
  iters[j] = n;
}
// CPU time, not wall time: on a shared 2-core machine the process is often descheduled, and
// wall-clock samples then measure the other tenants
const cpuMicros = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const ns = files.map(() => labels.map(() => []));
for (let r = 0; r < rounds; r++) {
  for (const [j] of labels.entries()) {
    const order = r % 2 === 0 ? files.map((_, i) => i) : files.map((_, i) => files.length - 1 - i);
    for (const i of order) {
      const t = cpuMicros();
      runners[i][j](iters[j]);
      ns[i][j].push(((cpuMicros() - t) * 1000) / iters[j]);
    }
  }
}
const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`${rounds} rounds of ~${ms} ms samples (CPU time); ns per pg_parse_request: median / min, and median per-round ratio to the first build`);
for (const [i, f] of files.entries()) {
  const cells = labels.map((l, j) => {
    const ratio = med(ns[i][j].map((x, r) => x / ns[0][j][r]));
    return `${l} ${med(ns[i][j]).toFixed(1)}/${Math.min(...ns[i][j]).toFixed(1)} (${ratio.toFixed(3)})`;
  });
  console.log(`${f}: ${cells.join(", ")}`);
}
