// Parser micro benchmark: how fast does each parser turn a request head into JS strings (method,
// target, every header name and value)? Compares our wasm parser (SIMD and scalar builds) with
// Node's built-in llhttp and undici's llhttp wasm, on a curl request, a ~700-byte browser
// request and a 40-header request. Each variant runs in its own process, so JIT and GC state
// left by one cannot tilt the next (hono's benchmarks/fetch does the same), and each checks its
// answers against a plain JS split of the same bytes before timing anything.
//
//   npm run build && node bench/parser.bench.js [--time-ms 1000] [--only VARIANT]
//
// Results and what they do not show: bench/parser.md.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Buffer } from "node:buffer";
import os from "node:os";
import { Bench } from "tinybench";
import { nodeLlhttp, undiciLlhttp } from "./parser-peers.js";

const REQUESTS = {
  curl: "GET /hello HTTP/1.1\r\nHost: 127.0.0.1:5000\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n",
  browser:
    "GET /assets/catalog/2024/autumn/boots-waterproof-leather.html?ref=home&utm_source=newsletter HTTP/1.1\r\n" +
    "Host: shop.example.org\r\n" +
    "Connection: keep-alive\r\n" +
    "sec-ch-ua: \"Chromium\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n" +
    "sec-ch-ua-mobile: ?0\r\n" +
    "sec-ch-ua-platform: \"Linux\"\r\n" +
    "Upgrade-Insecure-Requests: 1\r\n" +
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n" +
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n" +
    "Sec-Fetch-Site: same-origin\r\n" +
    "Sec-Fetch-Mode: navigate\r\n" +
    "Referer: https://shop.example.org/\r\n" +
    "Accept-Encoding: gzip, deflate, br, zstd\r\n" +
    "Accept-Language: en-GB,en;q=0.9,de;q=0.7\r\n" +
    "Cookie: session=8f2c1e0b9a7d4c3e; cart=3; theme=dark; consent=analytics%3Dno\r\n\r\n",
  "40 headers":
    "POST /api/v2/events HTTP/1.1\r\nHost: api.example.net\r\n" +
    Array.from({ length: 39 }, (_, i) => `X-Trace-Field-${String(i).padStart(2, "0")}: value-${i}-${"abcdef".repeat(i % 4)}\r\n`).join("") +
    "\r\n",
};

/** Our binding, driven as src/http does: copy the bytes in, one batch call, strings out. */
async function ours() {
  const p = await import("../dist/http/parser.js");
  const wantSimd = process.env.PRONGHORN_NO_WASM_SIMD !== "1";
  if (p.isSimd() !== wantSimd) throw new Error(`expected the ${wantSimd ? "SIMD" : "scalar"} build to load`);
  return (buf) => {
    const ret = p.parseRequestBytes(buf, 0);
    if (ret !== buf.length) throw new Error(`parseRequestBytes returned ${ret} for ${buf.length} bytes`);
    const n = p.headerCount();
    const headers = new Array(2 * n);
    for (let i = 0; i < n; i++) {
      headers[2 * i] = p.headerName(i);
      headers[2 * i + 1] = p.headerValue(i);
    }
    return { method: p.requestMethod(), target: p.requestTarget(), headers };
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
    if (task.result.state !== "completed") throw new Error(`${name} on ${task.name}: ${task.result.state}`);
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
  const only = arg("--only", null);
  const names = Object.keys(VARIANTS).filter((n) => only === null || n === only || n === BASELINE);
  const results = {};
  for (const name of names) {
    const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--variant", name, "--time-ms", String(timeMs)], {
      env: { ...process.env, ...VARIANTS[name].env },
      encoding: "utf8",
    });
    if (run.status !== 0) throw new Error(`variant ${name} failed (exit ${run.status}):\n${run.stderr}`);
    results[name] = JSON.parse(run.stdout.trim().split("\n").at(-1));
  }
  console.log(`${os.cpus()[0]?.model ?? "unknown CPU"}, ${os.cpus().length} cores, ${os.type()} ${os.release()}, Node ${process.version}`);
  console.log(`request sizes: ${Object.entries(REQUESTS).map(([k, v]) => `${k} ${v.length} B`).join(", ")}\n`);
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
