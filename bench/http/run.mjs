// HTTP load benchmark: pronghorn (one worker) against the servers of the runtime it runs on, all
// serving the same hello world (bench/http/app.mjs; node:http its (req, res) twin), one process
// each, loopback only, keep-alive and `Connection: close`.
//
// Runtime groups (pick with --runtimes, comma-separated; default: all that are installed):
//   node20, node24, node26   pronghorn (`node dist/cli.js`) vs node:http, @hono/node-server, srvx,
//                            every one on that same Node binary
//   bun                      pronghorn (`bun dist/cli.js`) vs Bun.serve, srvx (srvx/bun)
//   deno                     pronghorn (`deno run -A dist/cli.js`) vs Deno.serve, srvx (srvx/deno)
//
// A group starts all its servers, checks that each answers GET / with "Hello, World!", warms each
// up, then runs --rounds rounds; a round loads every server once per mode, in an order rotated
// each round, so drift on this shared machine hits every server alike. The report gives per
// server the median req/s and the ratio pronghorn / that server (ratio of the medians, and the
// range of the per-round ratios), and how much of the machine processes other than the server
// under load and wrk used meanwhile. A server that does not start (or fails its check) is
// reported as "did not start: <first line of its output>" and the run goes on without it.
//
//   node bench/http/run.mjs [--runtimes node20,node24,node26,bun,deno] [--rounds 5]
//        [--duration 3] [--connections 50] [--warmup 1] [--modes keep-alive,close]
//        [--write] [--out FILE]
//
// --write replaces the generated part of bench/http/results.md (between its
// `<!-- results:begin -->` and `<!-- results:end -->` markers); --out FILE writes the report
// alone to FILE. Needs wrk and a built dist/ (npm run build).
import { spawn, spawnSync, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { findBin, findNode, treeTicks } from "./lib.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../..");
const RESULTS = path.join(HERE, "results.md");

// ---------- arguments ----------

const argv = process.argv.slice(2);
const KNOWN = new Set(["runtimes", "rounds", "duration", "connections", "warmup", "modes", "out", "write", "help"]);
const FLAGS = new Set(["write", "help"]);
const opts = {};
for (let i = 0; i < argv.length; i++) {
  const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
  if (!m || !KNOWN.has(m[1])) usage(`unknown argument ${argv[i]}`);
  if (FLAGS.has(m[1])) opts[m[1]] = true;
  else if (m[2] !== undefined) opts[m[1]] = m[2];
  else if (i + 1 < argv.length) opts[m[1]] = argv[++i];
  else usage(`--${m[1]} needs a value`);
}
function usage(problem) {
  const text = fs.readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n");
  const start = text.findIndex((l) => l.startsWith("//   node bench/http/run.mjs"));
  if (problem) console.error(`run.mjs: ${problem}`);
  console.error(text.slice(start, start + 3).map((l) => l.slice(3)).join("\n"));
  process.exit(problem ? 2 : 0);
}
if (opts.help) usage();
const num = (name, dflt, min) => {
  const v = opts[name] === undefined ? dflt : Number(opts[name]);
  if (!Number.isFinite(v) || v < min) usage(`--${name} must be a number >= ${min}`);
  return v;
};
const ROUNDS = Math.floor(num("rounds", 5, 1));
const DURATION = Math.floor(num("duration", 3, 1)); // wrk takes whole seconds
const CONNECTIONS = Math.floor(num("connections", 50, 1));
const WARMUP = Math.floor(num("warmup", 1, 0));
const MODES = (opts.modes ?? "keep-alive,close").split(",").map((s) => s.trim());
for (const m of MODES) if (m !== "keep-alive" && m !== "close") usage(`unknown mode ${m} (keep-alive, close)`);
const START_TIMEOUT_MS = 30_000;

// ---------- runtimes and servers ----------

// version(), findNode() and findBin() are shared with nginx.mjs and cluster.mjs (lib.mjs).

const CLI = path.join(ROOT, "dist/cli.js");
const APP = path.join(HERE, "app.mjs");
const PRONGHORN_ARGS = [CLI, APP, "--host", "127.0.0.1", "--port", "0", "--workers", "1", "-E", "production"];
const here = (f) => path.join(HERE, f);

// Each group: how to find its binary, and its servers, the baseline peer first after pronghorn.
const GROUPS = {
  node20: { find: () => findNode(20), label: (v) => `Node ${v}`, servers: nodeServers },
  node24: { find: () => findNode(24), label: (v) => `Node ${v}`, servers: nodeServers },
  node26: { find: () => findNode(26), label: (v) => `Node ${v}`, servers: nodeServers },
  bun: {
    find: () => findBin("bun"),
    label: (v) => `Bun ${v}`,
    servers: (bin) => [
      { name: "pronghorn", cmd: [bin, PRONGHORN_ARGS] },
      { name: "Bun.serve", cmd: [bin, [here("bun-serve.mjs")]] },
      { name: "srvx", cmd: [bin, [here("srvx-bun.mjs")]] },
    ],
  },
  deno: {
    find: () => findBin("deno"),
    label: (v) => `Deno ${v.replace(/^deno /, "").replace(/ .*/, "")}`,
    servers: (bin) => [
      { name: "pronghorn", cmd: [bin, ["run", "-A", ...PRONGHORN_ARGS]] },
      { name: "Deno.serve", cmd: [bin, ["run", "-A", here("deno-serve.mjs")]] },
      { name: "srvx", cmd: [bin, ["run", "-A", here("srvx-deno.mjs")]] },
    ],
  },
};
function nodeServers(bin) {
  return [
    { name: "pronghorn", cmd: [bin, PRONGHORN_ARGS] },
    { name: "node:http", cmd: [bin, [here("node-http.mjs")]] },
    { name: "@hono/node-server", cmd: [bin, [here("hono-node.mjs")]] },
    { name: "srvx", cmd: [bin, [here("srvx.mjs")]] },
  ];
}

const requested = (opts.runtimes ?? Object.keys(GROUPS).join(",")).split(",").map((s) => s.trim()).filter(Boolean);
for (const r of requested) if (!GROUPS[r]) usage(`unknown runtime ${r} (${Object.keys(GROUPS).join(", ")})`);
if (!fs.existsSync(CLI)) {
  console.error("run.mjs: dist/cli.js is missing: run `npm run build` first");
  process.exit(2);
}
function hasWrk() {
  try {
    execFileSync("sh", ["-c", "command -v wrk"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
if (!hasWrk()) {
  console.error("run.mjs: wrk is missing: run `bash scripts/install-test-tools.sh`");
  process.exit(2);
}

// ---------- CPU accounting (Linux /proc; absent elsewhere) ----------

const HAVE_PROC = fs.existsSync("/proc/stat");
const NCPU = os.cpus().length;
function machineTicks() {
  if (!HAVE_PROC) return null;
  const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0) - (f[8] ?? 0) - (f[9] ?? 0); // guest time is already in user/nice
  return { total, idle: f[3] + (f[4] ?? 0) };
}
// ---------- servers ----------

function firstLine(text) {
  return (
    text
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l) ?? ""
  );
}

/** Start a server; resolves { proc, port } or { error } (never rejects). */
function start(server) {
  const [cmd, args] = server.cmd;
  return new Promise((resolve) => {
    let out = "";
    let done = false;
    // its own process group, so pronghorn's worker goes with its supervisor if anything is left
    const proc = spawn(cmd, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const finish = (v) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(v);
    };
    const onText = (c) => {
      out += c;
      const m = /accepting connections at http:\/\/127\.0\.0\.1:(\d+)|^ready (\d+)/m.exec(out);
      if (m) finish({ proc, port: Number(m[1] ?? m[2]) });
    };
    proc.stdout.on("data", onText);
    proc.stderr.on("data", onText);
    proc.once("error", (e) => finish({ proc, error: e.message }));
    proc.once("exit", (code, sig) => finish({ proc, error: firstLine(out) || `exited (${sig ?? code}) with no output` }));
    const timer = setTimeout(() => finish({ proc, error: `no ready line within ${START_TIMEOUT_MS / 1000} s${out ? `: ${firstLine(out)}` : ""}` }), START_TIMEOUT_MS);
  });
}

async function stop(proc) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once("exit", r));
  try {
    process.kill(-proc.pid, "SIGTERM");
  } catch {}
  const t = setTimeout(() => {
    try {
      process.kill(-proc.pid, "SIGKILL");
    } catch {}
  }, 10_000);
  await exited;
  clearTimeout(t);
}

async function check(port) {
  let res;
  for (let tries = 0; ; tries++) {
    try {
      res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5000) });
      break;
    } catch (err) {
      if (tries === 30) throw new Error(err.cause?.message ?? err.message);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const body = await res.text();
  if (res.status !== 200 || body !== "Hello, World!") throw new Error(`answered ${res.status} ${JSON.stringify(body.slice(0, 80))}`);
  // Connection: close must be honoured, or wrk's close mode would measure something else
  const r2 = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: "close" }, signal: AbortSignal.timeout(5000) });
  await r2.text();
  if (r2.status !== 200) throw new Error(`answered ${r2.status} with Connection: close`);
}

// ---------- load ----------

const wrkArgs = (port, close, seconds) => ["-t1", `-c${CONNECTIONS}`, `-d${seconds}s`, ...(close ? ["-H", "Connection: close"] : []), `http://127.0.0.1:${port}/`];

/** One wrk run; also the CPU the server tree, wrk, and everything else used meanwhile. */
function load(server, close, seconds) {
  const m0 = machineTicks();
  const s0 = treeTicks(server.proc.pid);
  // sh waits for wrk, then prints its own /proc stat: cutime+cstime there is wrk's CPU
  const r = spawnSync("sh", ["-c", 'wrk "$@"; s=$?; echo "@@stat $(cat /proc/$$/stat 2>/dev/null)"; exit $s', "sh", ...wrkArgs(server.port, close, seconds)], {
    encoding: "utf8",
    timeout: (seconds + 20) * 1000,
  });
  const m1 = machineTicks();
  const s1 = treeTicks(server.proc.pid);
  const text = r.stdout ?? "";
  const rpsMatch = /Requests\/sec:\s+([\d.]+)/.exec(text);
  if (r.status !== 0 || !rpsMatch) throw new Error(`wrk failed (${r.error?.message ?? r.status}): ${firstLine(r.stderr ?? "") || firstLine(text)}`);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  const errors = [];
  if (sock) errors.push(`socket errors: connect ${sock[1]}, read ${sock[2]}, write ${sock[3]}, timeout ${sock[4]}`);
  if (non2xx) errors.push(`non-2xx: ${non2xx[1]}`);
  let cpu = null;
  const statLine = /^@@stat (.+)$/m.exec(text);
  if (m0 && m1 && statLine) {
    const s = statLine[1];
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    const wrkTicks = Number(f[13]) + Number(f[14]);
    const total = m1.total - m0.total;
    const busy = total - (m1.idle - m0.idle);
    const server = s1 - s0;
    if (total > 0) {
      cpu = {
        busy: busy / total, // share of the whole machine (all cores) in use
        server: server / total,
        wrk: wrkTicks / total,
        others: Math.max(0, busy - server - wrkTicks) / total,
        // requests per CPU-second the server tree used: what a request costs, whatever was stolen
        perCpuSecond: server > 0 ? (Number(rpsMatch[1]) * total) / (NCPU * server) : NaN,
      };
    }
  }
  return { rps: Number(rpsMatch[1]), errors, cpu };
}

// ---------- statistics ----------

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (x) => (Number.isFinite(x) ? `${Math.round(x * 100)}%` : "n/a");
const fmtRps = (x) => (Number.isFinite(x) ? String(Math.round(x)) : "—");
const fmtRatio = (x) => (Number.isFinite(x) ? x.toFixed(2) : "—");

// ---------- run ----------

const startedAt = new Date();
const commit = sh("git rev-parse --short HEAD");
const dirty = sh("git status --porcelain -- src package.json tsconfig.json | cut -c4-").split("\n").filter(Boolean);
const isoSecond = (d) => d.toISOString().replace(/\.\d+Z$/, "Z");
const runs = [];
let interrupted = false;
const live = new Set();
const onSignal = (sig) => {
  interrupted = true;
  console.error(`run.mjs: ${sig}: stopping the servers`);
  for (const p of live) {
    try {
      process.kill(-p.pid, "SIGTERM");
    } catch {}
  }
  process.exit(130);
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

const perRun = DURATION + 0.1;
const groupsToRun = requested.map((key) => ({ key, ...GROUPS[key] }));
{
  const nServers = groupsToRun.reduce((a, g) => a + (g.key.startsWith("node") ? 4 : 3), 0);
  const est = nServers * (WARMUP + ROUNDS * MODES.length * perRun);
  console.error(`run.mjs: ${groupsToRun.map((g) => g.key).join(", ")}; ${ROUNDS} rounds × ${MODES.join(" + ")} × ${DURATION} s; about ${Math.ceil(est / 60)} min of load`);
}

for (const g of groupsToRun) {
  const found = g.find();
  const group = { key: g.key, label: found ? g.label(found.version) : g.key, bin: found?.bin, servers: [], load: [os.loadavg()[0]], cpu: [] };
  runs.push(group);
  if (!found) {
    group.missing = `${g.key} is not installed`;
    console.error(`run.mjs: ${group.missing}; skipped`);
    continue;
  }
  console.error(`\n== ${group.label} (${found.bin})`);
  group.servers = g.servers(found.bin).map((s) => ({ ...s, rps: {}, eff: {}, cpu: {}, errors: {} }));
  try {
    for (const s of group.servers) {
      if (s.name === "pronghorn") group.distBuilt = fs.statSync(CLI).mtime;
      const r = await start(s);
      s.proc = r.proc;
      if (r.proc) live.add(r.proc);
      if (r.error) {
        s.error = `did not start: ${r.error}`;
      } else {
        s.port = r.port;
        try {
          await check(s.port);
        } catch (e) {
          s.error = `failed its check: ${e.message}`;
        }
      }
      if (s.error) {
        console.error(`${s.name}: ${s.error}`);
        await stop(s.proc);
      } else {
        console.error(`${s.name}: up on port ${s.port}`);
      }
    }
    const up = group.servers.filter((s) => !s.error);
    if (WARMUP > 0) {
      for (const s of up) {
        try {
          load(s, false, WARMUP);
        } catch (e) {
          console.error(`${s.name}: warm-up: ${e.message}`);
        }
      }
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of MODES) {
        // rotate the order each round so no server always runs first (or right after another)
        const order = up.map((_, i) => up[(i + round) % up.length]);
        for (const s of order) {
          let r;
          try {
            r = load(s, mode === "close", DURATION);
          } catch (e) {
            r = { rps: NaN, errors: [e.message], cpu: null };
          }
          (s.rps[mode] ??= []).push(r.rps);
          (s.cpu[mode] ??= []).push(r.cpu);
          (s.eff[mode] ??= []).push(r.cpu?.perCpuSecond ?? NaN);
          if (r.cpu) group.cpu.push(r.cpu);
          if (r.errors.length) (s.errors[mode] ??= []).push(r.errors.join("; "));
          const c = r.cpu ? ` (machine busy ${pct(r.cpu.busy)}, others ${pct(r.cpu.others)})` : "";
          console.error(`${mode} round ${round + 1} ${s.name}: ${Math.round(r.rps)} req/s${c}${r.errors.length ? ` [${r.errors.join("; ")}]` : ""}`);
        }
      }
    }
  } finally {
    for (const s of group.servers) {
      await stop(s.proc);
      if (s.proc) live.delete(s.proc);
    }
  }
  group.load.push(os.loadavg()[0]);
}

// ---------- report ----------

function sh(cmd) {
  try {
    return execFileSync("sh", ["-c", cmd], { encoding: "utf8", cwd: ROOT, stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "";
  }
}
const pkgVersion = (name) => {
  try {
    return JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", name, "package.json"), "utf8")).version;
  } catch {
    return "?";
  }
};
const quote = (a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);
const command = ["node", "bench/http/run.mjs", ...argv].map(quote).join(" ");
const cpuModel = os.cpus()[0]?.model ?? "unknown CPU";
const memGiB = (os.totalmem() / 2 ** 30).toFixed(1);

let md = "";
md += `Made with \`${command}\` on ${isoSecond(startedAt)} (${Math.round((Date.now() - startedAt) / 1000)} s).\n\n`;
md += `- Machine: ${cpuModel}, ${NCPU} cores, ${memGiB} GiB, ${os.type()} ${os.release()}; loopback (127.0.0.1) only.\n`;
md += `- Runtimes: ${runs.map((g) => (g.bin ? `${g.key} = ${g.label} (\`${g.bin.startsWith(ROOT + path.sep) ? path.relative(ROOT, g.bin) : g.bin}\`)` : `${g.key}: not installed`)).join("; ")}.\n`;
md += `- pronghorn: commit ${commit}${dirty.length ? ` plus uncommitted changes in ${dirty.join(", ")}` : ""}; ${distNote()}; \`dist/cli.js bench/http/app.mjs --workers 1 -E production\` (one supervisor + one worker).\n`;
md += `- Peers: srvx ${pkgVersion("srvx")}, @hono/node-server ${pkgVersion("@hono/node-server")}, each with its defaults; node:http is a raw (req, res) twin of the app.\n`;
md += `- Load: ${sh("wrk -v 2>&1 | head -1").replace(/ Copyright.*/, "")}, \`wrk -t1 -c${CONNECTIONS} -d${DURATION}s http://127.0.0.1:PORT/\` (keep-alive) and the same with \`-H 'Connection: close'\`; `;
md += `${WARMUP > 0 ? `a ${WARMUP} s keep-alive warm-up per server (not counted); ` : ""}${ROUNDS} rounds, each running every server once per mode in an order rotated per round; one process per server, started once per group.\n`;
md += `- Reported: the median req/s over the rounds; \`pronghorn ×\` = pronghorn's median / that server's median on the same runtime, with the range of the per-round ratios (pronghorn's run / that server's run in the same round) in brackets.\n`;
md += `- Machine in use: \`others\` is the share of the whole machine (all ${NCPU} cores, from /proc/stat) used by processes other than the server under load and wrk during that server's runs (median over its runs; max in brackets): other sessions' test suites, builds, the idle servers. \`load\` is the 1-minute load average at the start → end of the group.\n\n`;

const modeTitle = { "keep-alive": "keep-alive", close: "Connection: close" };
const pending = [];
md += table("rps", "req/s", true);
if (HAVE_PROC) {
  md += `\nCPU cost: requests per CPU-second used by the server (its process tree, from /proc), thousands, median over the rounds; \`pronghorn ×\` as above. Less sensitive to CPU stolen by other work than req/s, but loopback TCP work is charged to whichever side runs it.\n\n`;
  md += table("eff", "k req / CPU-s", false);
}
function table(key, unit, withOthers) {
  let md = "";
  md += `| runtime | server |${MODES.map((m) => ` ${modeTitle[m]} ${unit} | pronghorn × |`).join("")}${withOthers ? " others (median [max]) |" : ""}\n`;
  md += `|---|---|${MODES.map(() => "---:|---:|").join("")}${withOthers ? "---:|" : ""}\n`;
  const fmt = key === "rps" ? fmtRps : (x) => (Number.isFinite(x) ? (x / 1000).toFixed(1) : "—");
  for (const g of runs) {
    const rt = `${g.label}<br>load ${g.load.map((x) => x.toFixed(2)).join(" → ")}`;
    if (g.missing) {
      md += `| ${g.key} | ${g.missing} |${MODES.map(() => " | |").join("")}${withOthers ? " |" : ""}\n`;
      continue;
    }
    const p = g.servers.find((s) => s.name === "pronghorn");
    if (p?.error && withOthers) pending.push(`${g.label}: pronghorn ${p.error}`);
    for (const [i, s] of g.servers.entries()) {
      const first = i === 0 ? rt : "";
      if (s.error) {
        md += `| ${first} | ${s.name} | ${s.error.replace(/\|/g, "\\|")} |${MODES.map((_, j) => (j === 0 ? " |" : " | |")).join("")}${withOthers ? " |" : ""}\n`;
        continue;
      }
      let row = `| ${first} | ${s.name} |`;
      for (const m of MODES) {
        const med = median(s[key][m] ?? []);
        let ratio = "";
        if (s !== p) {
          if (!p || p.error) ratio = "pending";
          else {
            const per = (s[key][m] ?? []).map((x, k) => p[key][m][k] / x).filter(Number.isFinite);
            ratio = `**${fmtRatio(median(p[key][m]) / med)}** [${fmtRatio(Math.min(...per))}–${fmtRatio(Math.max(...per))}]`;
          }
        }
        row += ` ${fmt(med)} | ${ratio} |`;
      }
      if (withOthers) {
        const others = MODES.flatMap((m) => (s.cpu[m] ?? []).filter(Boolean).map((c) => c.others));
        row += ` ${others.length ? `${pct(median(others))} [${pct(Math.max(...others))}]` : "n/a"} |`;
      }
      md += row + "\n";
    }
  }
  return md;
}
/** Which build of dist/ each group's pronghorn started from (other sessions rebuild it). */
function distNote() {
  const builds = runs.filter((g) => g.distBuilt).map((g) => [g.key, isoSecond(g.distBuilt)]);
  const distinct = [...new Set(builds.map(([, b]) => b))];
  if (distinct.length <= 1) return `dist/ built ${distinct[0] ?? isoSecond(fs.statSync(CLI).mtime)}`;
  return `dist/ was rebuilt during the run (by other work): ${builds.map(([k, b]) => `${k} used the build of ${b}`).join(", ")}`;
}
const errorNotes = [];
for (const g of runs)
  for (const s of g.servers)
    for (const [m, es] of Object.entries(s.errors ?? {})) errorNotes.push(`${g.label} ${s.name} ${m}: in ${es.length} of ${ROUNDS} runs, ${summariseErrors(es)}`);
/** Sum wrk's error counters over runs ("socket errors: read 123456 in all; non-2xx: 0"); other messages as they are. */
function summariseErrors(es) {
  const sums = new Map();
  const other = new Set();
  for (const e of es) {
    for (const part of e.split("; ")) {
      const counters = [...part.matchAll(/([a-z-]*\d?[a-z-]+):? (\d+)/g)];
      if (/^(socket errors|non-2xx)/.test(part) && counters.length) {
        for (const [, k, v] of counters) sums.set(k, (sums.get(k) ?? 0) + Number(v));
      } else other.add(part);
    }
  }
  const counted = [...sums].filter(([, v]) => v > 0).map(([k, v]) => `${v} ${k}`);
  return [...(counted.length ? [`${counted.join(", ")} errors in all`] : []), ...other].join("; ");
}
if (pending.length) md += `\n${pending.map((l) => `- ${l}; its ratios are pending.`).join("\n")}\n`;
if (errorNotes.length) md += `\nwrk reported:\n\n${errorNotes.map((l) => `- ${l}`).join("\n")}\n`;

console.log(md);
if (opts.out) fs.writeFileSync(opts.out, md);
if (opts.write) {
  const begin = "<!-- results:begin -->";
  const end = "<!-- results:end -->";
  const old = fs.existsSync(RESULTS) ? fs.readFileSync(RESULTS, "utf8") : "";
  const i = old.indexOf(begin);
  const j = old.indexOf(end);
  const block = `${begin}\n${md}${end}`;
  const next = i >= 0 && j > i ? old.slice(0, i) + block + old.slice(j + end.length) : `${old.trimEnd()}${old ? "\n\n" : ""}${block}\n`;
  fs.writeFileSync(RESULTS, next);
  console.error(`run.mjs: wrote ${path.relative(ROOT, RESULTS)}`);
  // The same medians as results.json, and the chart of them (chart.mjs: results.svg).
  const perMode = (s, key, f) => Object.fromEntries(MODES.map((m) => [m, f(median(s[key][m] ?? []))]));
  const json = {
    command, date: isoSecond(startedAt), commit, machine: `${cpuModel}, ${NCPU} cores, ${memGiB} GiB, ${os.type()} ${os.release()}`,
    connections: CONNECTIONS, duration: DURATION, rounds: ROUNDS, modes: MODES,
    groups: runs.filter((g) => !g.missing).map((g) => ({
      key: g.key, runtime: g.label,
      servers: g.servers.filter((s) => !s.error).map((s) => ({ name: s.name, rps: perMode(s, "rps", Math.round), kreqPerCpuSecond: perMode(s, "eff", (x) => Math.round(x / 100) / 10) })),
    })),
  };
  fs.writeFileSync(path.join(HERE, "results.json"), JSON.stringify(json, null, 2) + "\n");
  const { writeChart } = await import("./chart.mjs");
  console.error(`run.mjs: wrote ${path.relative(ROOT, path.join(HERE, "results.json"))} and ${path.relative(ROOT, writeChart())}`);
}
if (interrupted) process.exit(130);
