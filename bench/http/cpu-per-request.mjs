// Server CPU per request: what one request costs the process that serves it (pronghorn's worker,
// or the peer's one process), in µs of CPU (utime + stime from /proc/PID/stat, all its threads),
// read before and after a wrk run and divided by the requests wrk completed. Unlike req/s this
// does not move when other work on the machine starves wrk or the server: it is the server-side
// cost, and the ratio of two servers' costs is their throughput ratio on a machine with a core
// to spare for each. Loopback TCP work is charged to whichever side runs it (the sender's
// send(2) delivers into the receiver's socket), so both servers are charged alike.
//
//   node bench/http/cpu-per-request.mjs [--runtimes node20,node24,node26,bun,deno]
//        [--modes keep-alive,close] [--rounds 5] [--duration 3] [--connections 50]
//        [--dist DIR] [--strace] [--env K=V,...]
//
// Per runtime: pronghorn (`<dist>/cli.js bench/http/app.mjs --workers 1 -E production`; CPU of
// the worker alone, the supervisor's is reported apart) and the runtime's own server
// (node-http.mjs, bun-serve.mjs, deno-serve.mjs), started once, warmed up 1 s per mode, then
// --rounds rounds of `wrk -t1 -cC -dDs` per mode, the two servers in alternating order.
// Reports median CPU-µs/request per server and mode, the ratio peer/pronghorn (above 1:
// pronghorn's request is cheaper), the median req/s and the machine's busy share.
// --strace adds, per server and mode, one extra wrk run under `strace -c -f -p PID`: syscalls
// per request (strace slows the server, so only the counts mean anything, not the times).
// --dist picks the pronghorn build (default ./dist); --env sets variables for pronghorn only
// (e.g. PRONGHORN_NO_ONREAD=1). Linux only (/proc); needs wrk (and strace for --strace).
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as L from "./lib.mjs";

const SCRIPT = "bench/http/cpu-per-request.mjs";
const { opts, num, list } = L.parseArgs(SCRIPT, process.argv.slice(2),
  ["runtimes", "modes", "rounds", "duration", "connections", "dist", "env"], ["strace"],
  [`usage: node ${SCRIPT} [--runtimes node20,node24,node26,bun,deno] [--modes keep-alive,close] [--rounds 5] [--duration 3] [--connections 50] [--dist DIR] [--strace] [--env K=V,...]`]);
const RUNTIMES = list("runtimes", "node20,node26,bun,deno", ["node20", "node22", "node24", "node26", "bun", "deno"]);
const MODES = list("modes", "keep-alive,close", ["keep-alive", "close"]);
const ROUNDS = Math.floor(num("rounds", 5, 1));
const DURATION = Math.floor(num("duration", 3, 1));
const CONNECTIONS = Math.floor(num("connections", 50, 1));
const DIST = path.resolve(opts.dist ?? path.join(L.ROOT, "dist"));
const ENV = Object.fromEntries((opts.env ?? "").split(",").filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
const STRACE = !!opts.strace;
const TICK_US = 1e6 / Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
const APP = path.join(L.HERE, "app.mjs");

if (!fs.existsSync(path.join(DIST, "cli.js"))) {
  console.error(`${SCRIPT}: no cli.js in ${DIST}`);
  process.exit(2);
}
if (!L.hasTool("wrk") || (STRACE && !L.hasTool("strace"))) {
  console.error(`${SCRIPT}: needs wrk${STRACE ? " and strace" : ""} on PATH`);
  process.exit(2);
}
L.installCleanup(SCRIPT);

// ---------- /proc ----------

function stat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), start: Number(f[19]) };
  } catch {
    return null;
  }
}
/** Live children of pid. */
function children(pid) {
  const out = [];
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const st = stat(d);
    if (st && st.ppid === pid) out.push({ pid: Number(d), ...st });
  }
  return out;
}

// ---------- servers ----------

function groups(rt) {
  const ph = [path.join(DIST, "cli.js"), APP, "--host", "127.0.0.1", "--port", "0", "--workers", "1", "-E", "production"];
  const here = (f) => path.join(L.HERE, f);
  if (rt.startsWith("node")) {
    const n = L.findNode(Number(rt.slice(4)));
    return n && { label: n.label, servers: [{ name: "pronghorn", cmd: n.bin, args: ph, worker: true }, { name: "node:http", cmd: n.bin, args: [here("node-http.mjs")] }] };
  }
  const b = L.findBin(rt);
  if (!b) return null;
  if (rt === "bun") return { label: b.label, servers: [{ name: "pronghorn", cmd: b.bin, args: ph, worker: true }, { name: "Bun.serve", cmd: b.bin, args: [here("bun-serve.mjs")] }] };
  return { label: b.label, servers: [{ name: "pronghorn", cmd: b.bin, args: ["run", "-A", ...ph], worker: true }, { name: "Deno.serve", cmd: b.bin, args: ["run", "-A", here("deno-serve.mjs")] }] };
}

async function startServer(s) {
  const r = await L.start(s.cmd, s.args, { env: s.worker ? ENV : undefined });
  if (r.error) throw new Error(`${s.name}: ${r.error}`);
  const url = /^\d+$/.test(r.addr) ? `http://127.0.0.1:${r.addr}/` : r.addr.replace(/\/?$/, "/");
  await L.checkHello(url);
  let pid = r.proc.pid;
  if (s.worker) {
    // the worker: the supervisor's child that started last (node and deno; bun spawns it too)
    const kids = children(r.proc.pid).sort((a, b) => b.start - a.start);
    if (!kids.length) throw new Error(`${s.name}: no worker process under ${r.proc.pid}`);
    pid = kids[0].pid;
  }
  return { ...s, proc: r.proc, url, pid };
}

const wrkArgs = (url, mode, seconds) => ["-t1", `-c${CONNECTIONS}`, `-d${seconds}s`, ...(mode === "close" ? ["-H", "Connection: close"] : []), url];

async function measure(server, mode, seconds) {
  const m0 = L.machineTicks();
  const t0 = stat(server.pid).ticks;
  const sup0 = server.worker ? stat(server.proc.pid).ticks : 0;
  const r = await wrkTimed(wrkArgs(server.url, mode, seconds), seconds);
  const t1 = stat(server.pid)?.ticks;
  const sup1 = server.worker ? stat(server.proc.pid).ticks : 0;
  const m1 = L.machineTicks();
  const n = Number(/(\d+) requests in/.exec(r.text)?.[1] ?? NaN);
  return {
    rps: r.rps,
    requests: n,
    us: ((t1 - t0) * TICK_US) / n,
    supervisorUs: ((sup1 - sup0) * TICK_US) / n,
    wrkUs: (r.wrkTicks * TICK_US) / n,
    busy: L.busyShare(m0, m1),
    errors: r.errors,
  };
}

/** wrk through `sh`, which prints its own /proc stat once wrk is reaped: cutime+cstime is wrk's CPU. */
async function wrkTimed(args, seconds) {
  const r = await new Promise((resolve) => {
    const p = spawn("sh", ["-c", 'wrk "$@"; s=$?; echo "@@stat $(cat /proc/$$/stat)"; exit $s', "sh", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    p.stdout.on("data", (c) => (text += c));
    const timer = setTimeout(() => p.kill("SIGKILL"), (seconds + 20) * 1000);
    p.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, text });
    });
  });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(r.text)?.[1] ?? NaN);
  const st = /^@@stat (.+)$/m.exec(r.text)?.[1] ?? "";
  const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
  const errors = [];
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(r.text);
  if (sock) errors.push(`socket errors: connect ${sock[1]}, read ${sock[2]}, write ${sock[3]}, timeout ${sock[4]}`);
  if (r.code !== 0 || !Number.isFinite(rps)) errors.push(`wrk failed (${r.code})`);
  return { rps, text: r.text, wrkTicks: Number(f[13]) + Number(f[14]), errors };
}

/** One wrk run with strace -c -f attached to the serving process: syscalls per request. */
async function straceRun(server, mode, seconds) {
  const out = path.join(os.tmpdir(), `cpr-strace-${process.pid}-${server.pid}.txt`);
  const st = spawn("strace", ["-c", "-f", "-o", out, "-p", String(server.pid)], { stdio: "ignore" });
  await new Promise((r) => setTimeout(r, 500));
  const r = await L.wrk(wrkArgs(server.url, mode, seconds), seconds);
  st.kill("SIGINT");
  await new Promise((r) => st.once("exit", r));
  const n = Number(/(\d+) requests in/.exec(r.text)?.[1] ?? NaN);
  const calls = {};
  let text = "";
  try {
    text = fs.readFileSync(out, "utf8");
    fs.rmSync(out, { force: true });
  } catch {}
  for (const line of text.split("\n")) {
    // % time  seconds  usecs/call  calls  [errors]  syscall
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:(\d+)\s+)?([a-z_0-9]+)\s*$/.exec(line);
    if (m && m[3] !== "total") calls[m[3]] = { calls: Number(m[1]), errors: Number(m[2] ?? 0) };
  }
  return { requests: n, calls };
}

// ---------- run ----------

const started = new Date();
const report = [];
for (const rt of RUNTIMES) {
  const g = groups(rt);
  if (!g) {
    console.error(`${SCRIPT}: ${rt} not found; skipped`);
    continue;
  }
  const servers = [];
  try {
    for (const s of g.servers) servers.push(await startServer(s));
    for (const mode of MODES) {
      for (const s of servers) await L.wrk(wrkArgs(s.url, mode, 1), 1); // warm-up
      const res = Object.fromEntries(servers.map((s) => [s.name, []]));
      for (let round = 0; round < ROUNDS; round++) {
        for (const s of L.rotate(servers, round)) {
          const m = await measure(s, mode, DURATION);
          if (m.errors.length && !(mode === "close" && s.name === "Bun.serve")) console.error(`${g.label} ${s.name} ${mode}: ${m.errors.join("; ")}`);
          res[s.name].push(m);
        }
        console.error(`${g.label} ${mode} round ${round + 1}: ${servers.map((s) => `${s.name} ${res[s.name].at(-1).us.toFixed(1)} µs/req (wrk ${res[s.name].at(-1).wrkUs.toFixed(1)}) ${L.fmtRps(res[s.name].at(-1).rps)} req/s`).join(", ")}`);
      }
      const syscalls = {};
      if (STRACE) for (const s of servers) syscalls[s.name] = await straceRun(s, mode, DURATION);
      report.push({ label: g.label, mode, servers: servers.map((s) => s.name), res, syscalls });
    }
  } catch (err) {
    console.error(`${SCRIPT}: ${g.label}: ${err.message}`);
  } finally {
    for (const s of servers) await L.stop(s.proc);
  }
}

const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : "—");
console.log(`Made with \`${L.commandLine(SCRIPT, process.argv.slice(2))}\` on ${L.isoSecond(started)}; ${L.machine()}; ${L.wrkVersion()}; pronghorn ${L.relRoot(DIST)} (built ${L.isoSecond(fs.statSync(path.join(DIST, "cli.js")).mtime)}; checkout at commit ${L.sh("git rev-parse --short HEAD")}).`);
console.log("");
console.log("| runtime | mode | pronghorn CPU-µs/req | peer | peer CPU-µs/req | peer/pronghorn (cost ratio) [range] | pronghorn req/s | peer req/s | wrk CPU-µs/req (pronghorn, peer) | supervisor µs/req | machine busy |");
console.log("|---|---|---:|---|---:|---|---:|---:|---:|---:|---:|");
for (const r of report) {
  const [a, b] = r.servers;
  const ua = r.res[a].map((m) => m.us);
  const ub = r.res[b].map((m) => m.us);
  console.log(`| ${r.label} | ${r.mode} | ${fmt(L.median(ua))} | ${b} | ${fmt(L.median(ub))} | ${L.ratioCell(ub, ua)} | ${L.fmtRps(L.median(r.res[a].map((m) => m.rps)))} | ${L.fmtRps(L.median(r.res[b].map((m) => m.rps)))} | ${fmt(L.median(r.res[a].map((m) => m.wrkUs)))}, ${fmt(L.median(r.res[b].map((m) => m.wrkUs)))} | ${fmt(L.median(r.res[a].map((m) => m.supervisorUs)), 2)} | ${L.pct(L.median([...r.res[a], ...r.res[b]].map((m) => m.busy)))} |`);
}
if (STRACE) {
  console.log("");
  console.log("Syscalls per request (strace -c -f on the serving process, one run each; errors in brackets):");
  console.log("");
  for (const r of report) {
    for (const name of r.servers) {
      const s = r.syscalls[name];
      if (!s) continue;
      const parts = Object.entries(s.calls).sort((x, y) => y[1].calls - x[1].calls).filter(([, c]) => c.calls / s.requests >= 0.01)
        .map(([k, c]) => `${k} ${(c.calls / s.requests).toFixed(2)}${c.errors ? ` [${(c.errors / s.requests).toFixed(2)}]` : ""}`);
      const total = Object.values(s.calls).reduce((t, c) => t + c.calls, 0) / s.requests;
      console.log(`- ${r.label} ${r.mode} ${name} (${s.requests} requests): total ${total.toFixed(2)}; ${parts.join(", ")}`);
    }
  }
}
