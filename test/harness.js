// Black-box test harness: start pronghorn exactly as a user would (the CLI, on a chosen runtime),
// learn its address from the startup line, talk to it over raw sockets, stop it by pid.
// Shared by every suite; keep it small and free of test policy.
import { spawn, spawnSync, execFileSync } from "node:child_process";
import { once } from "node:events";
import { Buffer } from "node:buffer";
import net from "node:net";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const CLI = path.join(ROOT, "dist", "cli.js");
const BIN = path.join(ROOT, "node_modules", ".bin");

/** The runtimes a server can be started on. */
export const RUNTIMES = ["node", "bun", "deno"];

/**
 * The runtime the black-box suites start every server on: PRONGHORN_TEST_RUNTIME (node, bun or
 * deno; default node). "node" is the node binary running the tests (process.execPath), so the
 * Node line under test is chosen by which node runs `node --test` (scripts/test.mjs does that).
 */
export const RUNTIME = (() => {
  const name = process.env.PRONGHORN_TEST_RUNTIME || "node";
  if (!RUNTIMES.includes(name)) throw new Error(`PRONGHORN_TEST_RUNTIME=${name}: expected one of ${RUNTIMES.join(", ")}`);
  return name;
})();

/** How the startup line and --version name the runtime under test: `node`, or with its version (`node 26.12.1`), as a RegExp source. */
export const RUNTIME_LABEL = `${RUNTIME}(?: v?\\d[^,)]*)?`;

/** The binary of each runtime. */
export function runtimeBinary(runtime = RUNTIME) {
  switch (runtime) {
    case "node": return process.execPath;
    case "bun": return path.join(BIN, "bun");
    case "deno": return path.join(BIN, "deno");
    default: throw new Error(`unknown runtime ${runtime}`);
  }
}

/** The command line that runs `script` (default dist/cli.js) on a runtime, as the README tells users. */
export function runtimeCommand(runtime = RUNTIME, script = CLI) {
  const bin = runtimeBinary(runtime);
  return [bin, runtime === "deno" ? ["run", "-A", script] : [script]];
}

/**
 * The environment a server process gets: ours, plus what keeps a runtime from adding lines of its
 * own to the output the tests read (Deno's "a new release is available" notice), plus `env`.
 */
export function runtimeEnv(runtime = RUNTIME, env = {}) {
  const quiet = runtime === "deno" ? { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" } : {};
  return { ...process.env, ...quiet, ...env };
}

/**
 * Run `args` through the CLI (or `script`) on the runtime under test to completion, for commands
 * that must end by themselves (usage errors, --help). Resolves { code, signal, stdout, stderr,
 * out (both, as they came) }; a process still running after timeoutMs is killed.
 */
export async function runCli(args, { runtime = RUNTIME, env = {}, cwd = ROOT, timeoutMs = 15000, script = CLI } = {}) {
  const [cmd, pre] = runtimeCommand(runtime, script);
  const proc = spawn(cmd, [...pre, ...args], { cwd, env: runtimeEnv(runtime, env), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let out = "";
  proc.stdout.setEncoding("utf8").on("data", (c) => { stdout += c; out += c; });
  proc.stderr.setEncoding("utf8").on("data", (c) => { stderr += c; out += c; });
  const closed = once(proc, "close");
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const [code, signal] = await once(proc, "exit");
  clearTimeout(timer);
  // The last output may still be in the pipes; a worker that outlived the process must not hang us.
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
  return { code, signal, stdout, stderr, out };
}

/**
 * Evaluate an ES module `source` on the runtime under test and return what it printed to stdout
 * (for facts that differ between runtimes and Node lines, e.g. what their URL parser accepts).
 */
export function runtimeEval(source, runtime = RUNTIME) {
  const file = path.join(tmpdir("pronghorn-eval-"), "eval.mjs");
  fs.writeFileSync(file, source);
  const [cmd, pre] = runtimeCommand(runtime, file);
  const r = spawnSync(cmd, pre, { env: runtimeEnv(runtime), encoding: "utf8", timeout: 60000 });
  if (r.status !== 0) throw new Error(`${runtime} could not evaluate ${JSON.stringify(source)}: ${r.error ?? r.stderr}`);
  return r.stdout.trim();
}

/** Whether the runtime under test can import an app written in TypeScript (Node strips types from 22.18 and 23.6 on). */
export function runtimeRunsTypeScript(runtime = RUNTIME) {
  if (runtime !== "node") return true;
  const [major, minor] = process.versions.node.split(".").map(Number);
  return major >= 24 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18);
}

const madeDirs = [];
process.on("exit", () => {
  for (const dir of madeDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory, removed when the test process exits. */
export function tmpdir(prefix = "pronghorn-") {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  madeDirs.push(dir);
  return dir;
}

/** Write an app module into a temp dir and return its path. */
export function writeApp(source, name = "app.mjs") {
  const file = path.join(tmpdir(), name);
  fs.writeFileSync(file, source);
  return file;
}

/**
 * Start the server and resolve once every listener has announced itself
 * ("pronghorn: accepting connections at URL (...)"). Resolves to
 * { proc, pid, urls, port, host, socketPath, output(), stop(signal), exited }.
 * `listeners` is how many startup lines to wait for (default 1).
 */
export async function startServer(args, { runtime = RUNTIME, env = {}, listeners = 1, timeoutMs = 20000, cwd = ROOT, fds = [], wrap = null, script = CLI } = {}) {
  // `fds`: extra fds the server inherits as 3, 4, ... (Server::Starter, systemd). `wrap(cmd, args)`
  // returns another [cmd, args] to start it through (e.g. a shell that sets LISTEN_PID).
  // `script`: a user's own entry script (the programmatic serve()) instead of the CLI.
  const [cmd, pre] = runtimeCommand(runtime, script);
  const [file, argv] = wrap ? wrap(cmd, [...pre, ...args]) : [cmd, [...pre, ...args]];
  const proc = spawn(file, argv, { cwd, env: runtimeEnv(runtime, env), stdio: ["ignore", "pipe", "pipe", ...fds] });
  let out = "";
  const urls = [];
  const exited = new Promise((resolve) => proc.once("exit", (code, signal) => {
    // A worker that outlives its supervisor (a bug the ops tests look for) still holds these
    // pipes: it must not keep the test file from ending.
    proc.stdout.unref?.();
    proc.stderr.unref?.();
    resolve({ code, signal });
  }));
  const ready = new Promise((resolve, reject) => {
    const onText = (chunk) => {
      out += chunk;
      for (const m of out.matchAll(/accepting connections at (\S+)/g)) {
        if (!urls.includes(m[1])) urls.push(m[1]);
      }
      if (urls.length >= listeners) resolve();
    };
    proc.stdout.setEncoding("utf8").on("data", onText);
    proc.stderr.setEncoding("utf8").on("data", onText);
    exited.then(({ code, signal }) => reject(new Error(`server exited (${code ?? signal}) before it was ready:\n${out}`)));
    setTimeout(() => reject(new Error(`server not ready after ${timeoutMs} ms:\n${out}`)), timeoutMs).unref();
  });
  try {
    await ready;
  } catch (err) {
    proc.kill("SIGKILL");
    throw err;
  }
  const first = urls[0];
  const server = {
    proc,
    pid: proc.pid,
    urls,
    exited,
    output: () => out,
    /** Send `signal` (default SIGTERM) and resolve with { code, signal } once it exited. */
    async stop(signal = "SIGTERM", graceMs = 15000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill(signal);
      const t = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  };
  if (first.startsWith("unix:")) {
    server.socketPath = first.slice(5);
  } else {
    const u = new URL(first);
    server.host = u.hostname.replace(/^\[|\]$/g, "");
    if (server.host === "0.0.0.0") server.host = "127.0.0.1";
    if (server.host === "::") server.host = "::1";
    server.port = Number(u.port);
  }
  return server;
}

/** Connection options for net.connect() to a started server. */
export function addressOf(server) {
  return server.socketPath ? { path: server.socketPath } : { host: server.host, port: server.port };
}

/** Base URL for fetch() against a TCP server. */
export function baseUrl(server) {
  const h = server.host.includes(":") ? `[${server.host}]` : server.host;
  return `http://${h}:${server.port}`;
}

/**
 * Open a raw connection, send `bytes` (string as latin1, or Buffer), and resolve with every byte
 * received until the server closes the connection, or until `until(received)` holds, or the
 * timeout passes. Resolves { data: Buffer (latin1 string in .text), closed: boolean, localPort
 * (the client's end of a tcp connection) }.
 */
export async function rawExchange(server, bytes, { until, timeoutMs = 5000, endAfterWrite = false } = {}) {
  const sock = net.connect(addressOf(server));
  await once(sock, "connect");
  const localPort = sock.localPort;
  const chunks = [];
  let closed = false;
  const done = new Promise((resolve) => {
    const finish = () => resolve();
    sock.on("data", (c) => {
      chunks.push(c);
      if (until && until(Buffer.concat(chunks).toString("latin1"))) finish();
    });
    sock.on("close", () => { closed = true; finish(); });
    sock.on("error", () => {});
    setTimeout(finish, timeoutMs).unref();
  });
  for (const piece of Array.isArray(bytes) ? bytes : [bytes]) {
    sock.write(typeof piece === "string" ? Buffer.from(piece, "latin1") : piece);
  }
  if (endAfterWrite) sock.end();
  await done;
  sock.destroy();
  const data = Buffer.concat(chunks);
  return { data, text: data.toString("latin1"), closed, localPort };
}

/**
 * Split a byte string holding zero or more HTTP/1.1 responses (Content-Length or chunked framed,
 * or close-delimited for the last one) into { status, headers (lower-case name -> [values]), body }.
 * `headRequests` lists which responses answer HEAD (no body).
 */
export function splitResponses(text, { headRequests = [] } = {}) {
  const out = [];
  let rest = text;
  while (rest.length > 0) {
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) throw new Error(`incomplete response head: ${JSON.stringify(rest.slice(0, 200))}`);
    const lines = rest.slice(0, end).split("\r\n");
    const status = Number(lines[0].split(" ")[1]);
    const headers = {};
    for (const line of lines.slice(1)) {
      const i = line.indexOf(":");
      const name = line.slice(0, i).toLowerCase();
      (headers[name] ??= []).push(line.slice(i + 1).trim());
    }
    rest = rest.slice(end + 4);
    let body = "";
    const noBody = headRequests.includes(out.length) || status < 200 || status === 204 || status === 304;
    if (noBody) {
      // nothing
    } else if (headers["transfer-encoding"]?.[0] === "chunked") {
      for (;;) {
        const le = rest.indexOf("\r\n");
        const size = le < 0 ? NaN : parseInt(rest.slice(0, le), 16);
        if (Number.isNaN(size) || rest.length < le + 2 + size) {
          throw new Error(`truncated chunked body: ${JSON.stringify(rest.slice(0, 200))}`);
        }
        rest = rest.slice(le + 2);
        if (size === 0) {
          const te = rest.indexOf("\r\n");
          rest = rest.slice(te + 2);
          break;
        }
        body += rest.slice(0, size);
        rest = rest.slice(size + 2);
      }
    } else if (headers["content-length"]) {
      const n = Number(headers["content-length"][0]);
      body = rest.slice(0, n);
      rest = rest.slice(n);
    } else {
      body = rest;
      rest = "";
    }
    out.push({ status, headers, body, interim: status >= 100 && status < 200 });
  }
  return out;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for tools that cannot take port 0). */
export async function freePort() {
  const s = net.createServer().listen(0, "127.0.0.1");
  await once(s, "listening");
  const { port } = s.address();
  s.close();
  await once(s, "close");
  return port;
}

/** Whether a process with this pid exists (signal 0). */
export function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether a system tool is on PATH. */
export function hasTool(name) {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * For tests that need a system tool: returns a skip reason when it is missing, and throws
 * when CI is set (CI installs every tool first, so a missing one is a CI failure).
 */
export function requireTool(name) {
  if (hasTool(name)) return false;
  if (process.env.CI) throw new Error(`${name} is required when CI is set (install it in .ci/run)`);
  return `${name} is not installed`;
}

/**
 * Run nginx in the foreground with `conf` (an nginx.conf whose paths are all inside `dir`) and
 * resolve { proc, exited (resolves on its exit) } once it accepts on 127.0.0.1:`port` (it prints
 * no ready line). Stopped after the test `t` with TERM, not KILL: a master killed outright leaves
 * its workers running (and holding our stdout).
 */
export async function startNginx(t, dir, conf, port, timeoutMs = 10000) {
  fs.writeFileSync(path.join(dir, "nginx.conf"), conf);
  const proc = spawn("nginx", ["-p", dir, "-c", path.join(dir, "nginx.conf"), "-g", "daemon off;"], { stdio: ["ignore", "inherit", "inherit"] });
  const exited = once(proc, "exit");
  t.after(() => proc.exitCode === null && proc.kill("SIGTERM"));
  for (const start = Date.now(); ;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      s.once("connect", () => (s.destroy(), resolve(true)));
      s.once("error", () => resolve(false));
    });
    if (ok) return { proc, exited };
    if (Date.now() - start > timeoutMs) throw new Error(`nginx did not listen on ${port} within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/**
 * Bounded load from this process: `clients` concurrent clients for `durationMs`, half of them on
 * keep-alive connections, half sending `Connection: close`. Counts every request that did not
 * get a complete 200. A request on a reused keep-alive connection that the server closed before
 * sending any byte of a response is retried on a new connection (RFC 9112 §9.3.1, what browsers
 * and undici do) and counted in `retried`, not `failed`. `onBody(text)` sees every 200 body.
 * Resolves { requests, failed, retried, errors (first 5 descriptions) }.
 */
export async function load(server, { clients = 6, durationMs = 2500, path = "/", onBody } = {}) {
  const stats = { requests: 0, failed: 0, retried: 0, errors: [] };
  const deadline = Date.now() + durationMs;
  const fail = (what) => {
    stats.failed++;
    if (stats.errors.length < 5) stats.errors.push(what);
  };
  const client = async (keepAlive) => {
    let conn = null;
    while (Date.now() < deadline) {
      const reused = conn !== null;
      conn ??= openConnection(server);
      const r = await exchange(conn, `GET ${path} HTTP/1.1\r\nHost: loopback\r\n${keepAlive ? "" : "Connection: close\r\n"}\r\n`);
      if (r.ok) {
        stats.requests++;
        if (r.status !== 200) fail(`status ${r.status}`);
        else onBody?.(r.body);
        if (!keepAlive || r.close) {
          conn.sock.destroy();
          conn = null;
        }
        continue;
      }
      conn.sock.destroy();
      conn = null;
      if (reused && r.received === 0) {
        stats.retried++;
        continue;
      }
      stats.requests++;
      fail(r.error);
    }
    conn?.sock.destroy();
  };
  await Promise.all(Array.from({ length: clients }, (_, i) => client(i % 2 === 0)));
  return stats;
}

function openConnection(server) {
  const sock = net.connect(addressOf(server));
  const conn = { sock, buf: Buffer.alloc(0), wake: null, ended: false, error: null };
  sock.on("data", (d) => {
    conn.buf = Buffer.concat([conn.buf, d]);
    conn.wake?.();
  });
  sock.on("error", (e) => {
    conn.error = e.code ?? e.message;
  });
  sock.on("close", () => {
    conn.ended = true;
    conn.wake?.();
  });
  return conn;
}

/** One request/response on `conn`; resolves { ok, status, body, close } or { ok: false, error, received }. */
async function exchange(conn, request) {
  conn.buf = Buffer.alloc(0);
  if (!conn.ended) conn.sock.write(request);
  const timeout = Date.now() + 10000;
  for (;;) {
    const text = conn.buf.toString("latin1");
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) {
      const head = text.slice(0, end);
      const status = Number(head.split(" ")[1]);
      const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const close = /\r\nconnection:\s*close/i.test(head);
      const bodyStart = end + 4;
      if (cl && text.length >= bodyStart + Number(cl[1])) {
        return { ok: true, status, body: text.slice(bodyStart, bodyStart + Number(cl[1])), close };
      }
      if (!cl && conn.ended) return { ok: true, status, body: text.slice(bodyStart), close: true };
    }
    if (conn.ended) return { ok: false, error: `${conn.error ?? "closed"} after ${conn.buf.length} bytes`, received: conn.buf.length };
    if (Date.now() > timeout) return { ok: false, error: "no response in 10 s", received: conn.buf.length };
    await new Promise((resolve) => {
      conn.wake = resolve;
      setTimeout(resolve, 200).unref();
    });
    conn.wake = null;
  }
}

/** Resolve when `server.output()` matches `re` (checked as output arrives), or reject after timeoutMs. */
export function waitForOutput(server, re, timeoutMs = 20000) {
  return new Promise((resolve, reject) => {
    // The harness's own 'data' listeners were added first, so output() already holds the chunk.
    const check = () => {
      if (!re.test(server.output())) return;
      cleanup();
      resolve();
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${re} in the output after ${timeoutMs} ms:\n${server.output()}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      server.proc.stdout.off("data", check);
      server.proc.stderr.off("data", check);
    };
    server.proc.stdout.on("data", check);
    server.proc.stderr.on("data", check);
    check();
  });
}

/** The pids of a server's workers (the supervisor's children, from /proc; Linux only). */
export function workerPids(server) {
  try {
    return fs.readFileSync(`/proc/${server.pid}/task/${server.pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Start a server with one worker on 127.0.0.1, a free port and -E production, serving `app` with
 *  `args` added; resolves startServer's result with `worker`, the worker's pid (for the /proc
 *  probes; Linux only). */
export async function startOneWorker(app, args = [], options = {}) {
  const server = await startServer(["--workers", "1", "--host", "127.0.0.1", "--port", "0", "-E", "production", ...args, app], options);
  const [pid] = workerPids(server);
  if (!(pid > 0)) throw new Error(`no worker pid under the supervisor ${server.pid}`);
  server.worker = pid;
  return server;
}

/** A process's resident set size in bytes (VmRSS in /proc/PID/status; Linux only), or NaN. */
export function rssBytes(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** How many TCP connections (not listeners; not the unix sockets a runtime keeps for itself)
 *  a process holds open: its socket fds (/proc/PID/fd) found in /proc/net/tcp and tcp6. Linux only. */
export function tcpConnectionCount(pid) {
  const inodes = new Set();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  let n = 0;
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = fs.readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[3] !== "0A" && inodes.has(f[9])) n++; // 0A: LISTEN
    }
  }
  return n;
}

/**
 * For an app that counts its calls and answers GET /__calls with the count (not counted): send
 * `bytes` on a raw connection, wait for the server to close it, and return the final (non-1xx)
 * statuses and bodies in order, every response, the number of app calls the bytes caused, and
 * the text received. Fails if the server did not close the connection.
 */
export async function countedExchange(server, bytes, opts = {}) {
  const calls = async () => {
    const r = await rawExchange(server, "GET /__calls HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    return Number(splitResponses(r.text)[0].body);
  };
  const before = await calls();
  const r = await rawExchange(server, bytes, { timeoutMs: 4000, ...opts });
  if (!r.closed) throw new Error(`the server did not close the connection (got ${JSON.stringify(r.text.slice(0, 300))})`);
  const all = splitResponses(r.text, opts);
  const final = all.filter((x) => !x.interim);
  return { statuses: final.map((x) => x.status), bodies: final.map((x) => x.body), all, calls: (await calls()) - before, text: r.text };
}

/** Resolve after `ms` milliseconds. For a test whose subject is time passing (a slow client, an
 *  idle spell), never to stand in for something that can be awaited (an event, output, a state). */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Poll `check()` (sync or async) every `everyMs` until it returns something truthy, and resolve
 * with that; reject naming `what` after timeoutMs. For a state that shows only when asked (a
 * counter behind a route, /proc), where there is no event to await.
 */
export async function until(check, what, timeoutMs = 5000, everyMs = 10) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what}: still not so after ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

/**
 * One GET on a new connection with `Connection: close` (plus `headers`, raw header lines):
 * resolves its final response { status, headers, body } (splitResponses's form).
 */
export async function get(server, target, { headers = "", timeoutMs } = {}) {
  const r = await rawExchange(server, `GET ${target} HTTP/1.1\r\nHost: t\r\n${headers}Connection: close\r\n\r\n`, { timeoutMs });
  const final = splitResponses(r.text).find((x) => !x.interim);
  if (!final) throw new Error(`GET ${target}: no response (${JSON.stringify(r.text.slice(0, 200))})`);
  return final;
}

/**
 * Open a raw connection that records what comes back. Resolves { s (the net.Socket), text (what
 * was received as latin1, its first `keepText` characters), bytes, closed, closedAt, error (the
 * socket error's code), done (resolves on close), waitFor(re) (resolves once text matches `re` or
 * the connection closed) }. `read: false` leaves the socket paused (a client that reads nothing).
 */
export async function connect(server, { read = true, keepText = Infinity } = {}) {
  const s = net.connect(addressOf(server));
  const c = { s, text: "", bytes: 0, closed: false, closedAt: 0, error: null };
  if (!read) s.pause();
  s.on("data", (d) => {
    c.bytes += d.length;
    if (c.text.length < keepText) c.text += d.toString("latin1");
  });
  s.on("error", (e) => { c.error = e.code ?? e.message; });
  c.done = new Promise((resolve) => s.on("close", () => { c.closed = true; c.closedAt = Date.now(); resolve(); }));
  c.waitFor = (re) => new Promise((resolve) => {
    const check = () => {
      if (!re.test(c.text) && !c.closed) return;
      s.off("data", check);
      s.off("close", check);
      resolve();
    };
    s.on("data", check);
    s.on("close", check);
    check();
  });
  await once(s, "connect");
  return c;
}

// ---- fakes of the runtime contract (src/runtime/runtime.ts) for the in-process tables ---------

/** A fake Clock: time stands still until advance(ms) runs the timers due, in order. */
export class FakeClock {
  t = 0;
  timers = [];
  now() {
    return this.t;
  }
  setTimer(ms, fn) {
    return this.#add(ms, fn, 0);
  }
  every(ms, fn) {
    return this.#add(ms, fn, ms);
  }
  #add(ms, fn, every) {
    const timer = { at: this.t + ms, fn, every, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }
  /** Run every timer due within `ms`, in order, then set the clock. */
  advance(ms) {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => !x.cancelled && x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.t = due.at;
      if (due.every > 0) due.at += due.every;
      else due.cancelled = true;
      due.fn();
    }
    this.t = end;
  }
}

/** A fake accepted Socket that records what http/ writes (`written`, as latin1); write() returns
 *  `writable`; end() and destroy() report `closed` a microtask later, as the runtimes do. Set
 *  `events` to what the accept callback returned. */
export class FakeSocket {
  remote = { transport: "tcp", hostname: "10.0.0.7", port: 51234 };
  readsIntoBuffer = true; // data() may hand over views into the server's read buffer
  written = "";
  ended = false;
  destroyed = false;
  writable = true; // what write() returns
  events = null;
  writes = 0;
  write(data) {
    this.writes++;
    this.written += typeof data === "string" ? data : Buffer.from(data).toString("latin1");
    return this.writable;
  }
  writev(chunks) {
    for (const c of chunks) this.written += typeof c === "string" ? c : Buffer.from(c).toString("latin1");
    this.writes++;
    return this.writable;
  }
  pause() {}
  resume() {}
  end() {
    this.ended = true;
    queueMicrotask(() => this.events.closed());
  }
  destroy() {
    this.destroyed = true;
    queueMicrotask(() => this.events.closed());
  }
}
