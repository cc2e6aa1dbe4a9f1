// Many workers: pronghorn `--workers 2` against node:http under node:cluster with 2 workers, on
// the same Node binary, loopback TCP.
//
// Part 1, throughput (hello world, bench/http/app.mjs and its node:http twin): keep-alive and
// `Connection: close`, A/B alternated per round, median req/s and the ratio of the medians.
//   pronghorn      `dist/cli.js bench/http/app.mjs --workers 2 -E production`: one supervisor
//                  that only holds the listening socket; both workers accept on it (one shared
//                  accept queue in the kernel)
//   node:cluster   peers/node-cluster.mjs: the primary accepts and hands each connection to a
//                  worker in turn (SCHED_RR, cluster's default on Linux)
//
// Part 2, spread (a CPU-heavy app: every request spins --burn-ms ms of CPU and answers its pid in
// `x-worker`; pronghorn runs peers/cpu-app.mjs, node:cluster the same loop): wrk --latency with
// peers/worker-tally.lua counts responses per worker pid. Reported per server and mode: req/s,
// the largest and smallest worker's share of the responses, and p50/p99 latency (medians over
// --spread-rounds rounds). A third server, pronghorn with UV_TCP_SINGLE_ACCEPT=1 in its
// environment (libuv then pauses after each accept(2) instead of draining the queue), shows what
// a bounded accept batch does (leave it out with --spread-servers pronghorn,cluster).
//
//   node bench/http/cluster.mjs [--runtimes node20,node24,node26] [--rounds 5] [--duration 3]
//        [--connections 50] [--warmup 1] [--modes keep-alive,close] [--spread-rounds 3]
//        [--spread-duration 5] [--burn-ms 1.5] [--spread-servers pronghorn,single-accept,cluster]
//        [--parts throughput,spread] [--write] [--out FILE]
//
// --write replaces the generated part of bench/http/cluster.md; --out FILE writes the report
// alone to FILE. Needs wrk and a built dist/.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as L from "./lib.mjs";

const SCRIPT = "cluster.mjs";
const argv = process.argv.slice(2);
const { opts, num, list } = L.parseArgs(
  SCRIPT,
  argv,
  ["runtimes", "rounds", "duration", "connections", "warmup", "modes", "spread-rounds", "spread-duration", "burn-ms", "spread-servers", "parts", "out"],
  ["write"],
  [
    "usage: node bench/http/cluster.mjs [--runtimes node20,node24,node26] [--rounds 5] [--duration 3]",
    "         [--connections 50] [--warmup 1] [--modes keep-alive,close] [--spread-rounds 3]",
    "         [--spread-duration 5] [--burn-ms 1.5] [--spread-servers pronghorn,single-accept,cluster]",
    "         [--parts throughput,spread] [--write] [--out FILE]",
  ],
);
const ROUNDS = Math.floor(num("rounds", 5, 1));
const DURATION = Math.floor(num("duration", 3, 1));
const CONNECTIONS = Math.floor(num("connections", 50, 1));
const WARMUP = Math.floor(num("warmup", 1, 0));
const MODES = list("modes", "keep-alive,close", ["keep-alive", "close"]);
const SPREAD_ROUNDS = Math.floor(num("spread-rounds", 3, 1));
const SPREAD_DURATION = Math.floor(num("spread-duration", 5, 1));
const BURN_MS = num("burn-ms", 1.5, 0);
const SPREAD_SERVERS = list("spread-servers", "pronghorn,single-accept,cluster", ["pronghorn", "single-accept", "cluster"]);
const PARTS = list("parts", "throughput,spread", ["throughput", "spread"]);
const WORKERS = 2;
const RESULTS = path.join(L.HERE, "cluster.md");
const TALLY = path.join(L.HERE, "peers/worker-tally.lua");

const GROUPS = { node20: () => L.findNode(20), node24: () => L.findNode(24), node26: () => L.findNode(26) };
const requested = list("runtimes", Object.keys(GROUPS).join(","), Object.keys(GROUPS));
L.requireBuild(SCRIPT);
L.installCleanup(SCRIPT);

const APP = path.join(L.HERE, "app.mjs");
const CPU_APP = path.join(L.HERE, "peers/cpu-app.mjs");
const NODE_CLUSTER = path.join(L.HERE, "peers/node-cluster.mjs");
const pronghorn = (bin, app) => [bin, [L.CLI, app, "--host", "127.0.0.1", "--port", "0", "--workers", String(WORKERS), "-E", "production"]];

function throughputServers(bin) {
  return [
    { key: "pronghorn", name: `pronghorn --workers ${WORKERS}`, cmd: pronghorn(bin, APP) },
    { key: "cluster", name: `node:http, node:cluster ×${WORKERS}`, cmd: [bin, [NODE_CLUSTER, "--workers", String(WORKERS)]] },
  ];
}
function spreadServers(bin) {
  const burn = { BENCH_BURN_MS: String(BURN_MS) };
  return [
    { key: "pronghorn", name: `pronghorn --workers ${WORKERS}`, cmd: pronghorn(bin, CPU_APP), env: burn },
    { key: "single-accept", name: `pronghorn --workers ${WORKERS}, UV_TCP_SINGLE_ACCEPT=1`, cmd: pronghorn(bin, CPU_APP), env: { ...burn, UV_TCP_SINGLE_ACCEPT: "1" } },
    { key: "cluster", name: `node:http, node:cluster ×${WORKERS}`, cmd: [bin, [NODE_CLUSTER, "--workers", String(WORKERS), "--burn", String(BURN_MS), "--tag"]] },
  ].filter((s) => SPREAD_SERVERS.includes(s.key));
}
const portOf = (addr) => (/^\d+$/.test(addr) ? Number(addr) : Number(new URL(addr).port));

/** Start every server of a list; marks those that fail (with .error) and stops them. */
async function startAll(servers, tagged) {
  for (const s of servers) {
    const r = await L.start(s.cmd[0], s.cmd[1], { env: s.env });
    s.proc = r.proc;
    if (r.error) s.error = `did not start: ${r.error}`;
    else {
      s.port = portOf(r.addr);
      try {
        const res = await L.checkHello(`http://127.0.0.1:${s.port}/`);
        if (tagged && !res.headers["x-worker"]) throw new Error("no x-worker header");
        await L.checkHello(`http://127.0.0.1:${s.port}/`, { headers: { connection: "close" } });
      } catch (e) {
        s.error = `failed its check: ${e.message}`;
      }
    }
    if (s.error) {
      console.error(`${s.name}: ${s.error}`);
      await L.stop(s.proc);
    } else console.error(`${s.name}: up on port ${s.port}`);
  }
  return servers.filter((s) => !s.error);
}
const wrkArgs = (port, close, seconds, extra = []) => ["-t1", `-c${CONNECTIONS}`, `-d${seconds}s`, ...extra, ...(close ? ["-H", "Connection: close"] : []), `http://127.0.0.1:${port}/`];

/** Shares of the responses per worker, largest first, padded with zeros to WORKERS entries. */
function shares(lua) {
  const counts = [];
  let untagged = 0;
  for (const l of lua) {
    const m = /^@@worker (\S+) (\d+)$/.exec(l);
    if (!m) continue;
    if (m[1] === "none") untagged += Number(m[2]);
    else counts.push(Number(m[2]));
  }
  const total = counts.reduce((a, b) => a + b, 0) + untagged;
  counts.sort((a, b) => b - a);
  while (counts.length < WORKERS) counts.push(0);
  return { shares: counts.map((c) => (total ? c / total : NaN)), pids: counts.filter((c) => c > 0).length, untagged, total };
}

// ---------- run ----------

const startedAt = new Date();
const distAtStart = L.distBuilt();
const runs = [];
{
  const t = PARTS.includes("throughput") ? 2 * (WARMUP + ROUNDS * MODES.length * (DURATION + 0.2)) : 0;
  const s = PARTS.includes("spread") ? SPREAD_SERVERS.length * SPREAD_ROUNDS * MODES.length * (SPREAD_DURATION + 0.2) : 0;
  console.error(`${SCRIPT}: ${requested.join(", ")}; ${PARTS.join(" + ")}; about ${Math.ceil((requested.length * (t + s)) / 60)} min of load`);
}

for (const key of requested) {
  const found = GROUPS[key]();
  const group = { key, label: found?.label ?? key, bin: found?.bin, load: [os.loadavg()[0]], busy: [], tput: [], spread: [] };
  runs.push(group);
  if (!found) {
    group.missing = `${key} is not installed`;
    console.error(`${SCRIPT}: ${group.missing}; skipped`);
    continue;
  }
  console.error(`\n== ${group.label} (${found.bin})`);

  if (PARTS.includes("throughput")) {
    console.error(`-- throughput`);
    group.tput = throughputServers(found.bin).map((s) => ({ ...s, rps: {}, errors: {} }));
    try {
      const up = await startAll(group.tput, false);
      if (WARMUP > 0) for (const s of up) await L.wrk(wrkArgs(s.port, false, WARMUP), WARMUP);
      for (let round = 0; round < ROUNDS; round++) {
        for (const mode of MODES) {
          for (const s of L.rotate(up, round)) {
            const m0 = L.machineTicks();
            const r = await L.wrk(wrkArgs(s.port, mode === "close", DURATION), DURATION);
            const busy = L.busyShare(m0, L.machineTicks());
            group.busy.push(busy);
            (s.rps[mode] ??= []).push(r.rps);
            if (r.errors.length) (s.errors[mode] ??= []).push(r.errors.join("; "));
            console.error(`${mode} round ${round + 1} ${s.name}: ${Math.round(r.rps)} req/s (machine busy ${L.pct(busy)})${r.errors.length ? ` [${r.errors.join("; ")}]` : ""}`);
          }
        }
      }
    } finally {
      for (const s of group.tput) await L.stop(s.proc);
    }
  }

  if (PARTS.includes("spread")) {
    console.error(`-- spread (${BURN_MS} ms of CPU per request)`);
    group.spread = spreadServers(found.bin).map((s) => ({ ...s, runs: {}, errors: {} }));
    try {
      const up = await startAll(group.spread, true);
      if (WARMUP > 0) for (const s of up) await L.wrk(wrkArgs(s.port, false, WARMUP), WARMUP);
      for (let round = 0; round < SPREAD_ROUNDS; round++) {
        for (const mode of MODES) {
          for (const s of L.rotate(up, round)) {
            const m0 = L.machineTicks();
            const r = await L.wrk(wrkArgs(s.port, mode === "close", SPREAD_DURATION, ["--latency", "-s", TALLY]), SPREAD_DURATION);
            const busy = L.busyShare(m0, L.machineTicks());
            group.busy.push(busy);
            const sh = shares(r.lua ?? []);
            const lat = /^@@latency (\d+) (\d+) (\d+)$/m.exec((r.lua ?? []).join("\n"));
            const run = { rps: r.rps, ...sh, p50: lat ? Number(lat[1]) / 1000 : NaN, p99: lat ? Number(lat[2]) / 1000 : NaN, max: lat ? Number(lat[3]) / 1000 : NaN };
            (s.runs[mode] ??= []).push(run);
            if (r.errors.length) (s.errors[mode] ??= []).push(r.errors.join("; "));
            console.error(
              `${mode} round ${round + 1} ${s.name}: ${Math.round(r.rps)} req/s, shares ${run.shares.map(L.pct).join(" / ")}, p50 ${L.fmtMs(run.p50)} ms, p99 ${L.fmtMs(run.p99)} ms (machine busy ${L.pct(busy)})${r.errors.length ? ` [${r.errors.join("; ")}]` : ""}${sh.untagged ? ` [${sh.untagged} responses without x-worker]` : ""}`,
            );
          }
        }
      }
    } finally {
      for (const s of group.spread) await L.stop(s.proc);
    }
  }
  group.load.push(os.loadavg()[0]);
}

// ---------- report ----------

const modeTitle = { "keep-alive": "keep-alive", close: "Connection: close" };
const notes = [];
let md = "";
const rt = (g) => `${g.label}<br>load ${g.load.map((x) => x.toFixed(2)).join(" → ")}`;
if (PARTS.includes("throughput")) {
  md += `### Throughput, hello world, ${WORKERS} workers\n\n`;
  md += `| runtime | server |${MODES.map((m) => ` ${modeTitle[m]} req/s | pronghorn × |`).join("")}\n`;
  md += `|---|---|${MODES.map(() => "---:|---:|").join("")}\n`;
  for (const g of runs) {
    if (g.missing) {
      md += `| ${g.key} | ${g.missing} |${MODES.map(() => " | |").join("")}\n`;
      continue;
    }
    const p = g.tput.find((s) => s.key === "pronghorn");
    for (const [i, s] of g.tput.entries()) {
      if (s.error) {
        md += `| ${i === 0 ? rt(g) : ""} | ${s.name} | ${s.error.replace(/\|/g, "\\|")} |${MODES.map((_, j) => (j === 0 ? " |" : " | |")).join("")}\n`;
        continue;
      }
      let row = `| ${i === 0 ? rt(g) : ""} | ${s.name} |`;
      for (const m of MODES) {
        const ratio = s === p ? "" : p && !p.error ? L.ratioCell(p.rps[m] ?? [], s.rps[m] ?? []) : "pending";
        row += ` ${L.fmtRps(L.median(s.rps[m] ?? []))} | ${ratio} |`;
      }
      md += row + "\n";
      for (const [m, es] of Object.entries(s.errors)) notes.push(`${g.label} ${s.name}, ${m}: wrk reported in ${es.length} of ${ROUNDS} runs: ${es[0]}`);
    }
  }
  md += "\n";
}
if (PARTS.includes("spread")) {
  md += `### Spread across ${WORKERS} workers, ${BURN_MS} ms of CPU per request\n\n`;
  md += `| runtime | server | mode | req/s | largest worker's share | smallest worker's share | largest / smallest | p50 ms | p99 ms |\n`;
  md += `|---|---|---|---:|---:|---:|---:|---:|---:|\n`;
  for (const g of runs) {
    if (g.missing) {
      md += `| ${g.key} | ${g.missing} | | | | | | | |\n`;
      continue;
    }
    let first = true;
    for (const s of g.spread) {
      if (s.error) {
        md += `| ${first ? rt(g) : ""} | ${s.name} | ${s.error.replace(/\|/g, "\\|")} | | | | | | |\n`;
        first = false;
        continue;
      }
      for (const m of MODES) {
        const rs = s.runs[m] ?? [];
        const hi = rs.map((r) => r.shares[0]);
        const lo = rs.map((r) => r.shares[WORKERS - 1]);
        const range = (xs) => (xs.length > 1 ? ` [${L.pct(Math.min(...xs))}–${L.pct(Math.max(...xs))}]` : "");
        const skew = rs.map((r) => r.shares[0] / r.shares[WORKERS - 1]);
        const skewMed = L.median(skew.map((x) => (Number.isFinite(x) ? x : Infinity)).filter((x) => !Number.isNaN(x)));
        md += `| ${first ? rt(g) : ""} | ${s.name} | ${modeTitle[m]} | ${L.fmtRps(L.median(rs.map((r) => r.rps)))} | ${L.pct(L.median(hi))}${range(hi)} | ${L.pct(L.median(lo))}${range(lo)} | ${skewMed === Infinity ? "∞ (one worker served all)" : L.fmtRatio(skewMed)} | ${L.fmtMs(L.median(rs.map((r) => r.p50)))} | ${L.fmtMs(L.median(rs.map((r) => r.p99)))} |\n`;
        first = false;
        const untagged = rs.reduce((a, r) => a + r.untagged, 0);
        if (untagged) notes.push(`${g.label} ${s.name}, ${m}: ${untagged} responses without x-worker`);
      }
      for (const [m, es] of Object.entries(s.errors)) notes.push(`${g.label} ${s.name}, ${m} (spread): wrk reported in ${es.length} of ${SPREAD_ROUNDS} runs: ${es[0]}`);
    }
  }
  md += `\nShares are of all responses in a run, per worker pid (peers/worker-tally.lua), median over the rounds with their range in brackets. In keep-alive mode wrk opens its ${CONNECTIONS} connections once at the start of a run, so the shares show how those connections were spread; with \`Connection: close\` every request is a new connection, accepted anew.\n`;
}
if (notes.length) md += `\n${notes.map((n) => `- ${n}`).join("\n")}\n`;

const busyAll = runs.flatMap((g) => g.busy);
md += `\n**How it was made.** \`${L.commandLine("bench/http/cluster.mjs", argv)}\` on ${L.isoSecond(startedAt)} (${Math.round((Date.now() - startedAt) / 1000)} s), `;
md += `on ${L.machine()}; loopback (127.0.0.1) only. Runtimes: ${runs.map((g) => (g.bin ? `${g.key} = ${g.label} (\`${L.relRoot(g.bin)}\`)` : `${g.key}: not installed`)).join("; ")}. `;
md += `pronghorn ${L.pronghornBuild(distAtStart)}; \`dist/cli.js APP --workers ${WORKERS} -E production\` (a supervisor that holds the listening socket and never accepts, and ${WORKERS} workers accepting on it). `;
md += `node:cluster: bench/http/peers/node-cluster.mjs, a primary and ${WORKERS} workers, cluster's default scheduling (SCHED_RR on Linux: the primary accepts and passes each connection to a worker over IPC), node:http in the workers. `;
md += `Load: ${L.wrkVersion()}, \`wrk -t1 -c${CONNECTIONS}\`, keep-alive and with \`-H 'Connection: close'\`; ${WARMUP > 0 ? `a ${WARMUP} s keep-alive warm-up per server; ` : ""}`;
if (PARTS.includes("throughput")) md += `throughput: bench/http/app.mjs and its node:http twin, ${L.plural(ROUNDS, "round")} of \`-d${DURATION}s\`, each running both servers once per mode in an order rotated per round; \`pronghorn ×\` is the ratio of the medians, with the range of the per-round ratios in brackets. `;
if (PARTS.includes("spread")) md += `spread: bench/http/peers/cpu-app.mjs (${BURN_MS} ms of CPU spin per request, pid in \`x-worker\`) and the same loop in node-cluster.mjs \`--burn ${BURN_MS} --tag\`, ${L.plural(SPREAD_ROUNDS, "round")} of \`-d${SPREAD_DURATION}s --latency -s bench/http/peers/worker-tally.lua\`, servers rotated per round; latency percentiles are wrk's. `;
md += `The servers, wrk (about one core) and other work share the ${os.cpus().length} cores: the machine was ${L.pct(L.median(busyAll))} busy during the runs (median; other work included); \`load\` is the 1-minute load average at the start → end of a group.\n`;

console.log(md);
if (opts.out) fs.writeFileSync(opts.out, md);
if (opts.write) {
  L.writeResults(
    RESULTS,
    md,
    `# HTTP benchmark: many workers

\`\`\`sh
node bench/http/cluster.mjs [--runtimes node20,node24,node26] [--rounds 5] [--duration 3] \\
     [--connections 50] [--warmup 1] [--modes keep-alive,close] [--spread-rounds 3] \\
     [--spread-duration 5] [--burn-ms 1.5] [--spread-servers pronghorn,single-accept,cluster] \\
     [--parts throughput,spread] [--write] [--out FILE]
\`\`\`

pronghorn \`--workers 2\` (both workers accept on one shared listening socket) against node:http
under node:cluster with 2 workers (the primary accepts and deals connections round-robin):
throughput on a hello world, and how a CPU-heavy app's requests spread across the two workers.
See the comment at the top of bench/http/cluster.mjs. \`--write\` replaces what lies between the
markers below.`,
  );
  console.error(`${SCRIPT}: wrote ${path.relative(L.ROOT, RESULTS)}`);
}
