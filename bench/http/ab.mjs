// A/B throughput of two pronghorn builds, one worker each, on one machine: for a change to
// src/http/ that must not cost throughput. Each build (a dist/ directory: by default the one in
// /tmp/dist-before, copied before the change, against this checkout's dist/) serves
// bench/http/app.mjs with `node <dist>/cli.js app.mjs --workers 1 -E production`; wrk -t1 loads it,
// keep-alive and with `Connection: close` (Gazelle's mode). Both servers run side by side; runs
// alternate A/B, B first in every other round, after one warm-up run each, and the report is
// the median of each side over the rounds and the ratio B/A of the medians (with the range of
// the per-round ratios), in req/s and in the servers' CPU per request (utime + stime of the
// supervisor and its worker from /proc, over wrk's request count: less moved by CPU that other
// work steals, and the measure that counts in close mode, where wrk costs as much as the server). On a small, shared machine, quote ratios over 5+ rounds and re-run
// when the per-round range is wide.
//
//   node bench/http/ab.mjs [--a DIR] [--b DIR] [--rounds 5] [--seconds 3] [--connections 50]
//                          [--node 20,26] [--modes keepalive,close]
import fs from "node:fs";
import path from "node:path";
import * as L from "./lib.mjs";

const SCRIPT = "bench/http/ab.mjs";
const { opts, num, list } = L.parseArgs(SCRIPT, process.argv.slice(2),
  ["a", "b", "rounds", "seconds", "connections", "node", "modes"], [],
  [
    `usage: node ${SCRIPT} [--a DIR] [--b DIR] [--rounds N] [--seconds S] [--connections C] [--node 20,26] [--modes keepalive,close]`,
    "  --a, --b    the two dist/ directories to compare (default /tmp/dist-before and ./dist)",
    "  --node      Node majors to run the servers on (.runtimes/node-N, this node, or PATH)",
  ]);
const A = path.resolve(opts.a ?? "/tmp/dist-before");
const B = path.resolve(opts.b ?? path.join(L.ROOT, "dist"));
const ROUNDS = num("rounds", 5, 1);
const SECONDS = num("seconds", 3, 1);
const CONNECTIONS = num("connections", 50, 1);
const NODES = list("node", "20,26", ["20", "22", "24", "26"]);
const MODES = list("modes", "keepalive,close", ["keepalive", "close"]);
const APP = path.join(L.HERE, "app.mjs");
/** /proc's clock ticks (USER_HZ): 100 on Linux. */
const TICKS_PER_SECOND = 100;

for (const dir of [A, B]) {
  if (!fs.existsSync(path.join(dir, "cli.js"))) {
    console.error(`${SCRIPT}: no cli.js in ${dir}; build one (npx tsc -p tsconfig.json) or copy a dist/ there`);
    process.exit(2);
  }
}
if (!L.hasTool("wrk")) {
  console.error(`${SCRIPT}: wrk is not on PATH`);
  process.exit(2);
}
L.installCleanup(SCRIPT);

const wrkArgs = (url, mode) => ["-t1", `-c${CONNECTIONS}`, `-d${SECONDS}s`, ...(mode === "close" ? ["-H", "Connection: close"] : []), url];

async function serve(node, dist) {
  const r = await L.start(node.bin, [path.join(dist, "cli.js"), APP, "--workers", "1", "-E", "production", "--port", "0", "--host", "127.0.0.1"]);
  if (r.error) throw new Error(`${dist} on ${node.label}: ${r.error}`);
  const url = r.addr.startsWith("http") ? r.addr : `http://127.0.0.1:${r.addr}/`;
  await L.checkHello(url);
  return { proc: r.proc, url };
}

const results = [];
for (const major of NODES) {
  const node = L.findNode(Number(major));
  if (!node) {
    console.error(`${SCRIPT}: no Node ${major} found; skipped`);
    continue;
  }
  const servers = { A: await serve(node, A), B: await serve(node, B) };
  try {
    for (const mode of MODES) {
      for (const side of ["A", "B"]) await L.wrk(wrkArgs(servers[side].url, mode), 1); // warm-up
      const rps = { A: [], B: [] };
      const us = { A: [], B: [] };
      for (let round = 0; round < ROUNDS; round++) {
        for (const side of round % 2 === 0 ? ["A", "B"] : ["B", "A"]) {
          const t0 = L.treeTicks(servers[side].proc.pid);
          const r = await L.wrk(wrkArgs(servers[side].url, mode), SECONDS);
          const ticks = L.treeTicks(servers[side].proc.pid) - t0;
          if (r.errors.length) console.error(`${node.label} ${mode} ${side} round ${round + 1}: ${r.errors.join("; ")}`);
          rps[side].push(r.rps);
          us[side].push((ticks * 1e6) / TICKS_PER_SECOND / (r.rps * SECONDS));
        }
        console.error(`${node.label} ${mode} round ${round + 1}: A ${L.fmtRps(rps.A.at(-1))} (${us.A.at(-1).toFixed(1)} µs)  B ${L.fmtRps(rps.B.at(-1))} (${us.B.at(-1).toFixed(1)} µs)`);
      }
      results.push({ node: node.label, mode, a: rps.A, b: rps.B, usA: us.A, usB: us.B });
    }
  } finally {
    await L.stop(servers.A.proc);
    await L.stop(servers.B.proc);
  }
}

console.log(`A = ${L.relRoot(A)}, B = ${L.relRoot(B)}; ${ROUNDS} alternated rounds of wrk -t1 -c${CONNECTIONS} -d${SECONDS}s, 1 worker each, ${L.wrkVersion()}`);
console.log("");
console.log("| runtime | mode | A median req/s | B median req/s | B/A [per-round range] | A CPU µs/req | B CPU µs/req | A/B CPU [per-round range] |");
console.log("|---|---|---:|---:|---|---:|---:|---|");
for (const r of results) {
  console.log(`| ${r.node} | ${r.mode === "close" ? "Connection: close" : "keep-alive"} | ${L.fmtRps(L.median(r.a))} | ${L.fmtRps(L.median(r.b))} | ${L.ratioCell(r.b, r.a)} | ` +
    `${L.median(r.usA).toFixed(1)} | ${L.median(r.usB).toFixed(1)} | ${L.ratioCell(r.usA, r.usB)} |`);
}
