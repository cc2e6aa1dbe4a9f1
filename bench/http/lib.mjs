// Shared helpers of the HTTP benchmarks in this directory (nginx.mjs, cluster.mjs): arguments,
// finding runtimes, starting and stopping servers in their own process groups, cleaning up on
// exit or a signal, running wrk (asynchronously, so a signal is handled at once), medians and
// the "how it was made" facts. run.mjs keeps its own copies of the older of these.
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, "../..");
export const CLI = path.join(ROOT, "dist/cli.js");

// ---------- arguments ----------

/**
 * Parse `--name value`, `--name=value` and boolean `--flag`s. `usageLines` is printed on a
 * problem (then exit 2) or for --help (exit 0).
 */
export function parseArgs(script, argv, known, flags, usageLines) {
  const usage = (problem) => {
    if (problem) console.error(`${script}: ${problem}`);
    console.error(usageLines.join("\n"));
    process.exit(problem ? 2 : 0);
  };
  const opts = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m || !(known.includes(m[1]) || flags.includes(m[1]) || m[1] === "help")) usage(`unknown argument ${argv[i]}`);
    if (m[1] === "help" || flags.includes(m[1])) opts[m[1]] = true;
    else if (m[2] !== undefined) opts[m[1]] = m[2];
    else if (i + 1 < argv.length) opts[m[1]] = argv[++i];
    else usage(`--${m[1]} needs a value`);
  }
  if (opts.help) usage();
  const num = (name, dflt, min) => {
    const v = opts[name] === undefined ? dflt : Number(opts[name]);
    if (!Number.isFinite(v) || v < min) usage(`--${name} must be a number >= ${min}`);
    return v;
  };
  const list = (name, dflt, allowed) => {
    const xs = (opts[name] ?? dflt).split(",").map((s) => s.trim()).filter(Boolean);
    for (const x of xs) if (!allowed.includes(x)) usage(`unknown ${name} value ${x} (${allowed.join(", ")})`);
    return xs;
  };
  return { opts, num, list, usage };
}

// ---------- runtimes and tools ----------

export function version(bin, args = ["--version"]) {
  try {
    return execFileSync(bin, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 20_000 }).trim().split("\n")[0];
  } catch {
    return null;
  }
}
/** A Node binary of that major: .runtimes/node-N, this process's, or the one on PATH. */
export function findNode(major) {
  const candidates = [path.join(ROOT, `.runtimes/node-${major}/bin/node`), process.execPath];
  try {
    candidates.push(execFileSync("sh", ["-c", "command -v node"], { encoding: "utf8" }).trim());
  } catch {}
  for (const c of candidates) {
    const v = fs.existsSync(c) && version(c);
    if (v && v.startsWith(`v${major}.`)) return { bin: c, version: v, label: `Node ${v}` };
  }
  return null;
}
export function findBin(name) {
  const bin = path.join(ROOT, "node_modules/.bin", name);
  const v = fs.existsSync(bin) && version(bin);
  if (!v) return null;
  const label = name === "deno" ? `Deno ${v.replace(/^deno /, "").replace(/ .*/, "")}` : `${name[0].toUpperCase()}${name.slice(1)} ${v}`;
  return { bin, version: v, label };
}
export function hasTool(name) {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
export function requireBuild(script) {
  if (!fs.existsSync(CLI)) {
    console.error(`${script}: dist/cli.js is missing: run \`npm run build\` first`);
    process.exit(2);
  }
  if (!hasTool("wrk")) {
    console.error(`${script}: wrk is missing: run \`bash scripts/install-test-tools.sh\``);
    process.exit(2);
  }
}
export const relRoot = (p) => (p.startsWith(ROOT + path.sep) ? path.relative(ROOT, p) : p);

// ---------- cleanup: children (process groups) and temp dirs, on exit, error or signal ----------

const liveProcs = new Set(); // process-group leaders
const liveChildren = new Set(); // plain children (wrk)
const tempDirs = new Set();
let cleanupInstalled = false;

function killGroup(proc, sig) {
  try {
    process.kill(-proc.pid, sig);
  } catch {}
}
function cleanupNow() {
  for (const p of liveProcs) if (p.exitCode === null && p.signalCode === null) killGroup(p, "SIGKILL");
  liveProcs.clear();
  for (const p of liveChildren) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  liveChildren.clear();
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}
/** Kill every child group and remove every temp dir on exit, SIGINT, SIGTERM or a crash. */
export function installCleanup(script) {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  const onSignal = (sig) => {
    console.error(`${script}: ${sig}: stopping the servers`);
    for (const p of liveProcs) killGroup(p, "SIGTERM");
    for (const p of liveChildren) p.kill("SIGTERM");
    // give nginx and the servers a moment to go on their own, then make sure
    setTimeout(() => process.exit(130), 300).unref();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("exit", cleanupNow);
  process.on("uncaughtException", (err) => {
    console.error(`${script}: ${err?.stack ?? err}`);
    process.exit(1);
  });
  process.on("unhandledRejection", (err) => {
    console.error(`${script}: ${err?.stack ?? err}`);
    process.exit(1);
  });
}
export function makeTempDir(prefix) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(d);
  return d;
}
export function removeTempDir(d) {
  fs.rmSync(d, { recursive: true, force: true });
  tempDirs.delete(d);
}

// ---------- servers ----------

export function firstLine(text) {
  return (
    text
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l) ?? ""
  );
}

/** Spawn in a new process group (stdout/stderr piped), killed with its group on our exit. */
export function spawnGroup(cmd, args, env) {
  const proc = spawn(cmd, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], detached: true, env: env ? { ...process.env, ...env } : process.env });
  liveProcs.add(proc);
  proc.once("exit", () => liveProcs.delete(proc));
  return proc;
}

/** pronghorn's "accepting connections at URL" or a peer's "ready ADDR" (a port or unix:PATH). */
const READY = /accepting connections at (\S+)|^ready (\S+)/m;

/**
 * Start a server in its own process group (so its workers go with it); resolves
 * { proc, addr, output() } or { proc, error } once it prints its ready line (never rejects).
 */
export function start(cmd, args, { env, timeoutMs = 30_000, ready = READY } = {}) {
  return new Promise((resolve) => {
    let out = "";
    let done = false;
    const proc = spawnGroup(cmd, args, env);
    const finish = (v) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ proc, output: () => out, ...v });
    };
    const onText = (c) => {
      if (out.length < 64 * 1024) out += c;
      const m = ready.exec(out);
      if (m) finish({ addr: m[1] ?? m[2] });
    };
    proc.stdout.on("data", onText);
    proc.stderr.on("data", onText);
    proc.once("error", (e) => finish({ error: e.message }));
    proc.once("exit", (code, sig) => finish({ error: firstLine(out) || `exited (${sig ?? code}) with no output` }));
    const timer = setTimeout(() => finish({ error: `no ready line within ${timeoutMs / 1000} s${out ? `: ${firstLine(out)}` : ""}` }), timeoutMs);
  });
}

/** SIGTERM the process group, SIGKILL after `graceMs`; resolves once the leader exited. */
export async function stop(proc, graceMs = 10_000) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once("exit", r));
  killGroup(proc, "SIGTERM");
  const t = setTimeout(() => killGroup(proc, "SIGKILL"), graceMs);
  await exited;
  clearTimeout(t);
  // a worker that outlived its supervisor must not hold the socket: the group goes too
  killGroup(proc, "SIGKILL");
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for nginx, which cannot take port 0). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** GET url (a unix socket with { socketPath }); resolves { status, headers, body }. */
export function get(url, { socketPath, headers = {}, timeoutMs = 5000 } = {}) {
  return import("node:http").then(
    (http) =>
      new Promise((resolve, reject) => {
        const req = http.get(url, { socketPath, headers, agent: false, timeout: timeoutMs }, (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (c) => (body += c));
          res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body }));
          res.on("error", reject);
        });
        req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        req.on("error", reject);
      }),
  );
}
/** GET until it answers (up to ~3 s of connection errors), then check status and body. */
export async function checkHello(url, opts = {}, expect = "Hello, World!") {
  let res;
  for (let tries = 0; ; tries++) {
    try {
      res = await get(url, opts);
      break;
    } catch (err) {
      if (tries === 30) throw new Error(err.message);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  if (res.status !== 200 || (expect !== null && res.body !== expect)) throw new Error(`answered ${res.status} ${JSON.stringify(res.body.slice(0, 80))}`);
  return res;
}

// ---------- load ----------

/**
 * One wrk run (asynchronous, bounded by its duration + 20 s). Resolves { rps, errors, text,
 * latency: { p50, p99, max } in ms when --latency was given, lua: lines starting with "@@" }.
 */
export function wrk(args, seconds) {
  return new Promise((resolve) => {
    const proc = spawn("wrk", args, { stdio: ["ignore", "pipe", "pipe"] });
    liveChildren.add(proc);
    let out = "";
    let err = "";
    proc.stdout.on("data", (c) => (out += c));
    proc.stderr.on("data", (c) => (err += c));
    const timer = setTimeout(() => proc.kill("SIGKILL"), (seconds + 20) * 1000);
    proc.once("error", (e) => {
      clearTimeout(timer);
      resolve({ rps: NaN, errors: [`wrk: ${e.message}`], text: out });
    });
    proc.once("close", (code, sig) => {
      clearTimeout(timer);
      liveChildren.delete(proc);
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
      if (code !== 0 || !rps) {
        resolve({ rps: NaN, errors: [`wrk failed (${sig ?? code}): ${firstLine(err) || firstLine(out)}`], text: out });
        return;
      }
      const errors = [];
      const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
      if (sock) errors.push(`socket errors: connect ${sock[1]}, read ${sock[2]}, write ${sock[3]}, timeout ${sock[4]}`);
      if (non2xx) errors.push(`non-2xx: ${non2xx[1]}`);
      const lat = (q) => {
        const m = new RegExp(`^\\s+${q}%\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(out);
        return m ? Number(m[1]) * { us: 1e-3, ms: 1, s: 1e3 }[m[2]] : NaN;
      };
      const maxm = /Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)/.exec(out);
      const latency = { p50: lat(50), p99: lat(99), max: maxm ? Number(maxm[1]) * { us: 1e-3, ms: 1, s: 1e3 }[maxm[2]] : NaN };
      const lua = out.split("\n").filter((l) => l.startsWith("@@"));
      resolve({ rps: Number(rps[1]), errors, text: out, latency, lua });
    });
  });
}

// ---------- machine load ----------

const HAVE_PROC = fs.existsSync("/proc/stat");
export function machineTicks() {
  if (!HAVE_PROC) return null;
  const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0) - (f[8] ?? 0) - (f[9] ?? 0);
  return { total, idle: f[3] + (f[4] ?? 0) };
}
/** Share of the whole machine in use between two machineTicks() samples. */
export function busyShare(a, b) {
  if (!a || !b || b.total <= a.total) return NaN;
  return (b.total - a.total - (b.idle - a.idle)) / (b.total - a.total);
}

// ---------- statistics and formatting ----------

export const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
export const pct = (x) => (Number.isFinite(x) ? `${Math.round(x * 100)}%` : "n/a");
export const fmtRps = (x) => (Number.isFinite(x) ? String(Math.round(x)) : "—");
export const fmtRatio = (x) => (Number.isFinite(x) ? x.toFixed(2) : "—");
export const fmtMs = (x) => (Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)) : "—");
/** "**1.23** [1.10–1.40]": ratio of the medians, and the range of the per-round ratios. */
export function ratioCell(a, b) {
  const per = a.map((x, k) => x / b[k]).filter(Number.isFinite);
  const r = median(a) / median(b);
  if (!Number.isFinite(r)) return "—";
  return per.length ? `**${fmtRatio(r)}** [${fmtRatio(Math.min(...per))}–${fmtRatio(Math.max(...per))}]` : `**${fmtRatio(r)}**`;
}
/** Rotate xs by `round`, so no entry always runs first (or right after the same other). */
export const rotate = (xs, round) => xs.map((_, i) => xs[(i + round) % xs.length]);

// ---------- "how it was made" ----------

export function sh(cmd) {
  try {
    return execFileSync("sh", ["-c", cmd], { encoding: "utf8", cwd: ROOT, stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "";
  }
}
export const isoSecond = (d) => d.toISOString().replace(/\.\d+Z$/, "Z");
const quote = (a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);
export const commandLine = (script, argv) => ["node", script, ...argv].map(quote).join(" ");
export function machine() {
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  return `${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.type()} ${os.release()}`;
}
export const distBuilt = () => (fs.existsSync(CLI) ? fs.statSync(CLI).mtime : null);
/** Commit, uncommitted source changes, and which dist/ build ran (`atStart`: distBuilt() then). */
export function pronghornBuild(atStart) {
  const commit = sh("git rev-parse --short HEAD");
  const dirty = sh("git status --porcelain -- src package.json tsconfig.json | cut -c4-").split("\n").filter(Boolean);
  const now = distBuilt();
  const fmt = (d) => (d ? isoSecond(d) : "?");
  const built =
    atStart && now && atStart.getTime() !== now.getTime()
      ? `dist/ built ${fmt(atStart)} at the start and rebuilt ${fmt(now)} during the run (by other work): servers started after that ran the new build`
      : `dist/ built ${fmt(now)}`;
  return `commit ${commit}${dirty.length ? ` plus uncommitted changes in ${dirty.join(", ")}` : ""}; ${built}`;
}
export const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
export const wrkVersion = () => sh("wrk -v 2>&1 | head -1").replace(/ Copyright.*/, "");

/** Replace the part of `file` between the results markers with `md` (or create the file). */
export function writeResults(file, md, header) {
  const begin = "<!-- results:begin -->";
  const end = "<!-- results:end -->";
  const old = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : `${header.trimEnd()}\n\n`;
  const i = old.indexOf(begin);
  const j = old.indexOf(end);
  const block = `${begin}\n${md}${end}`;
  const next = i >= 0 && j > i ? old.slice(0, i) + block + old.slice(j + end.length) : `${old.trimEnd()}\n\n${block}\n`;
  fs.writeFileSync(file, next);
}

/** A process's own CPU ticks (utime + stime) and its ppid, from /proc/PID/stat; null when gone. */
function procStat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" "); // f[0] is field 3 (state)
    return { ppid: Number(f[1]), self: Number(f[11]) + Number(f[12]), children: Number(f[13]) + Number(f[14]) };
  } catch {
    return null;
  }
}
/** CPU ticks used so far by pid and every live descendant (pronghorn's supervisor + worker); 0
 *  without /proc. */
export function treeTicks(root) {
  if (!fs.existsSync("/proc/stat")) return 0;
  const kids = new Map();
  const stats = new Map();
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const st = procStat(d);
    if (!st) continue;
    stats.set(Number(d), st);
    if (!kids.has(st.ppid)) kids.set(st.ppid, []);
    kids.get(st.ppid).push(Number(d));
  }
  let sum = 0;
  const todo = [root];
  while (todo.length) {
    const p = todo.pop();
    sum += stats.get(p)?.self ?? 0;
    todo.push(...(kids.get(p) ?? []));
  }
  return sum;
}
