// Parser micro benchmark: how fast does each parser turn a request head into JS strings (method,
// target, every header name and value)? Compares our wasm parser (SIMD and scalar builds) with
// Node's built-in llhttp and undici's llhttp wasm, on a curl request, a ~700-byte browser
// request, a 40-header request and a request of short fields (bench/parser-requests.js). Each variant runs in its own process, so JIT and GC state
// left by one cannot tilt the next (hono's benchmarks/fetch does the same), and each checks its
// answers against a plain JS split of the same bytes before timing anything.
//
//   npm run build && node bench/parser.bench.js [--time-ms 1000] [--only VARIANT[,VARIANT]] [--rounds N]
//
// --rounds N runs every variant N times, alternating the order, and reports the medians.
//
// Results and what they do not show: bench/parser.md.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Buffer } from "node:buffer";
import os from "node:os";
import { Bench } from "tinybench";
import { nodeLlhttp, undiciLlhttp } from "./parser-peers.js";
import { REQUESTS } from "./parser-requests.js";


/** Our binding, driven as src/http does: copy the bytes in, one batch call, strings out. */
async function ours() {
  const p = await import("../dist/http/parser.js");
  const wantSimd = process.env.PRONGHORN_NO_WASM_SIMD !== "1";
  // the server makes this choice from its Config (config.ts reads the variable); do it the same way
  const parser = p.requestParser(wantSimd ? "simd" : "scalar");
  if (p.isSimd() !== wantSimd) throw new Error(`expected the ${wantSimd ? "SIMD" : "scalar"} build to load`);
  return (buf) => {
    const ret = parser.parseBytes(buf, 0);
    if (ret !== buf.length) throw new Error(`parseBytes returned ${ret} for ${buf.length} bytes`);
    const n = parser.headerCount();
    const headers = new Array(2 * n);
    for (let i = 0; i < n; i++) {
      headers[2 * i] = parser.headerName(i);
      headers[2 * i + 1] = parser.headerValue(i);
    }
    return { method: parser.method(), target: parser.target(), headers };
  };
}

const VARIANTS = {
  "ours (SIMD)": { make: ours, env: {} },
  "ours (scalar)": { make: ours, env: { PRONGHORN_NO_WASM_SIMD: "1" } },
  "undici llhttp wasm (SIMD)": { make: () => undiciLlhttp(), env: {} },
  "undici llhttp wasm, head decoded once": { make: () => undiciLlhttp({ decodeOnce: true }), env: {} },
  "node llhttp (built-in)": { make: () => nodeLlhttp(), env: {} },
};
const BASELINE = "undici llhttp wasm (SIMD)";

/** What every parser must return: the head split by hand (the requests are plain: no obs-fold). */
function expected(text) {
  const lines = text.split("\r\n");
  const [method, target] = lines[0].split(" ");
  const headers = [];
  for (const line of lines.slice(1, lines.indexOf(""))) {
    const colon = line.indexOf(":");
    headers.push(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return { method, target, headers };
}

async function runVariant(name, timeMs) {
  const parse = await VARIANTS[name].make();
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(500, timeMs) });
  for (const [label, text] of Object.entries(REQUESTS)) {
    const buf = Buffer.from(text, "latin1");
    const got = JSON.stringify(parse(buf));
    const want = JSON.stringify(expected(text));
    if (got !== want) throw new Error(`${name} on ${label}: got ${got}, expected ${want}`);
    bench.add(label, () => parse(buf));
  }
  await bench.run();
  const out = {};
  for (const task of bench.tasks) {
    if (task.result.state !== "completed") throw new Error(`${name} on ${task.name}: ${task.result.state} ${task.result.error?.stack ?? ""}`);
    out[task.name] = task.result.throughput.mean;
  }
  return out;
}

function arg(flag, fallback) {
  const i = process.argv.indexOf(flag);
  return i === -1 ? fallback : process.argv[i + 1];
}

const timeMs = Number(arg("--time-ms", "1000"));
const child = arg("--variant", null);
if (child !== null) {
  process.stdout.write(JSON.stringify(await runVariant(child, timeMs)) + "\n");
} else {
  const only = arg("--only", null)?.split(",") ?? null;
  const rounds = Number(arg("--rounds", "1"));
  const names = Object.keys(VARIANTS).filter((n) => only === null || only.includes(n) || n === BASELINE);
  // every variant once per round, the order reversed every other round; medians over rounds
  const perRound = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (const name of r % 2 === 0 ? names : [...names].reverse()) {
      const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--variant", name, "--time-ms", String(timeMs)], {
        env: { ...process.env, ...VARIANTS[name].env },
        encoding: "utf8",
      });
      if (run.status !== 0) throw new Error(`variant ${name} failed (exit ${run.status}):\n${run.stderr}`);
      perRound[name].push(JSON.parse(run.stdout.trim().split("\n").at(-1)));
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const results = Object.fromEntries(
    names.map((n) => [n, Object.fromEntries(Object.keys(REQUESTS).map((k) => [k, median(perRound[n].map((x) => x[k]))]))]),
  );
  console.log(`${os.cpus()[0]?.model ?? "unknown CPU"}, ${os.cpus().length} cores, ${os.type()} ${os.release()}, Node ${process.version}`);
  console.log(`request sizes: ${Object.entries(REQUESTS).map(([k, v]) => `${k} ${v.length} B`).join(", ")}; ${rounds} round(s), medians\n`);
  const header = ["variant", ...Object.keys(REQUESTS).map((k) => `${k} (ops/s, × undici)`)];
  const rows = names.map((name) => [
    name,
    ...Object.keys(REQUESTS).map((k) => {
      const ops = results[name][k];
      return `${Math.round(ops).toLocaleString("en-US")} (${(ops / results[BASELINE][k]).toFixed(2)}×)`;
    }),
  ]);
  console.log(`| ${header.join(" | ")} |`);
  console.log(`|${header.map(() => "---").join("|")}|`);
  for (const row of rows) console.log(`| ${row.join(" | ")} |`);
}
