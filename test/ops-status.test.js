// Server status, health checks and the access log, through the CLI on the runtime under test:
// --status-path (every worker's counters, gathered through the supervisor; 403 outside
// --status-allow), --health-path (200 while a worker takes new work, 503 once it stops while its
// requests finish, 200 again from the next generation after HUP), and --access-log in both
// formats, written without blocking the event loop and reopened on USR2 (logrotate).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT, RUNTIME, startServer, get, connect, splitResponses, tmpdir, waitForOutput, workerPids } from "./harness.js";

const SLOW = path.join(ROOT, "test", "fixtures", "ops-slow.mjs");
const STATUS = ["--status-path", "/server-status"];

const statusJson = async (server) => {
  const r = await get(server, "/server-status?json");
  assert.equal(r.status, 200, r.body);
  assert.match(r.headers["content-type"][0], /^application\/json/);
  return JSON.parse(r.body);
};

test("--status-path: every worker's counters, whichever worker answers; busy while a request is in the app; ?json and text", async (t) => {
  const server = await startServer(["--workers", "2", "--port", "0", "--host", "127.0.0.1", "-E", "production", ...STATUS, SLOW]);
  t.after(() => server.stop("SIGKILL"));
  for (let i = 0; i < 10; i++) assert.equal((await get(server, "/")).status, 200);
  const doc = await statusJson(server);
  assert.equal(doc.pid, server.pid);
  assert.equal(doc.generation, 1);
  assert.ok(doc.uptime > 0 && doc.uptime < 60, `uptime ${doc.uptime}`);
  assert.equal(doc.workers.length, 2);
  assert.deepEqual(doc.workers.map((w) => w.pid).sort(), workerPids(server).sort());
  assert.deepEqual(doc.workers.map((w) => w.id).sort(), [1, 2]);
  for (const w of doc.workers) {
    assert.deepEqual(Object.keys(w).sort(), ["connections", "generation", "id", "pid", "requests", "state", "uptime"]);
    assert.equal(w.generation, 1);
    assert.equal(w.state, "idle");
    assert.ok(w.uptime >= 0 && w.uptime < 60);
  }
  // The ten requests, plus the status request itself, each on its own connection.
  assert.equal(doc.workers.reduce((n, w) => n + w.requests, 0), 11);
  assert.equal(doc.workers.reduce((n, w) => n + w.connections, 0), 11);

  // A request inside the app makes its worker busy, on the page whichever worker serves it.
  const slow = get(server, "/slow?ms=1500");
  await waitForOutput(server, /slow started \d+/);
  const busyPid = Number(/slow started (\d+)/.exec(server.output())[1]);
  for (let i = 0; i < 8; i++) {
    const d = await statusJson(server);
    assert.equal(d.workers.find((w) => w.pid === busyPid).state, "busy");
    assert.equal(d.workers.filter((w) => w.state === "busy").length, 1);
  }
  const text = await get(server, "/server-status");
  assert.equal(text.status, 200);
  assert.match(text.headers["content-type"][0], /^text\/plain/);
  assert.match(text.body, /^Uptime: \d+ seconds\nPID: \d+\nGeneration: 1\nTotal Accesses: \d+\nTotal Connections: \d+\nBusyWorkers: 1\nIdleWorkers: 1\nStoppingWorkers: 0\n--\npid id generation state requests connections uptime\n/);
  assert.match(text.body, new RegExp(`^${busyPid} \\d 1 busy \\d+ \\d+ \\d+$`, "m"));
  assert.equal((await slow).status, 200);
  // Only the exact path: anything else is the app's.
  assert.match((await get(server, "/server-status/x")).body, /^ok /);
  assert.match((await get(server, "/server-statusx")).body, /^ok /);
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});

test("--status-path: a worker blocked in a long task is listed with its last numbers (stale), and the page still comes", async (t) => {
  const server = await startServer(["--workers", "2", "--port", "0", "--host", "127.0.0.1", "-E", "production", ...STATUS, SLOW]);
  t.after(() => server.stop("SIGKILL"));
  await statusJson(server); // both report once
  const spin = get(server, "/spin?ms=2500");
  await waitForOutput(server, /spinning \d+/);
  const blocked = Number(/spinning (\d+)/.exec(server.output())[1]);
  const start = Date.now();
  const doc = await statusJson(server);
  const took = Date.now() - start;
  console.log(`status page with one worker blocked: answered in ${took} ms`);
  const w = doc.workers.find((x) => x.pid === blocked);
  assert.equal(w.stale, true);
  assert.equal(typeof w.requests, "number");
  assert.equal(doc.workers.find((x) => x.pid !== blocked).stale, undefined);
  assert.ok(took < 1500, `took ${took} ms`);
  await spin;
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});

function hasIPv6() {
  return Object.values(os.networkInterfaces()).flat().some((i) => i.family === "IPv6" && i.address === "::1");
}

test("--status-allow: loopback and unix-socket clients by default; CIDRs (IPv4, IPv6, unix) replace that; anyone else gets 403", async (t) => {
  const dir = tmpdir();
  const sock = path.join(dir, "s.sock");
  const v6 = hasIPv6();
  const listen = ["--listen", "127.0.0.1:0", "--listen", `unix:${sock}`, ...(v6 ? ["--listen", "[::1]:0"] : [])];
  const at = (server, i) => {
    const url = server.urls[i];
    if (url.startsWith("unix:")) return { ...server, socketPath: url.slice(5) };
    const u = new URL(url);
    return { ...server, socketPath: undefined, host: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port) };
  };
  const statuses = async (allow) => {
    const server = await startServer(["--workers", "1", ...listen, ...allow.flatMap((a) => ["--status-allow", a]), "-E", "production", ...STATUS, SLOW], { listeners: v6 ? 3 : 2 });
    t.after(() => server.stop("SIGKILL"));
    const out = [];
    for (let i = 0; i < server.urls.length; i++) {
      const r = await get(at(server, i), "/server-status?json");
      if (r.status === 403) assert.equal(r.body, "Forbidden\n");
      out.push(r.status);
    }
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
    return out;
  };
  const pick = (v4, unix, six) => (v6 ? [v4, unix, six] : [v4, unix]);
  assert.deepEqual(await statuses([]), pick(200, 200, 200));
  assert.deepEqual(await statuses(["10.0.0.0/8"]), pick(403, 403, 403));
  assert.deepEqual(await statuses(["127.0.0.1"]), pick(200, 403, 403));
  assert.deepEqual(await statuses(["unix", "::1/128"]), pick(403, 200, 200));
  assert.deepEqual(await statuses(["::/0", "0.0.0.0/0"]), pick(200, 403, 200));
  if (!v6) t.diagnostic("no ::1 on this machine: the IPv6 client is not tested");
});

const HEALTH = ["--health-path", "/healthz"];

/** A keep-alive connection that has served one request and sits idle: a draining worker still
 *  answers a request that arrives on it (then closes it), as a load balancer's probe would. */
async function idleConnection(server) {
  const c = await connect(server);
  c.s.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  await c.waitFor(/ok \d+ \d+\n$/);
  return {
    async health() {
      c.text = "";
      c.s.write("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
      await c.waitFor(/\r\n\r\n(ok|stopping)\n$/);
      return splitResponses(c.text)[0];
    },
    /** Probe until the answer is 503 (the worker hears of its stop over IPC a moment after the
     *  supervisor logged it); resolves that answer and how many 200s came first. */
    async untilStopping() {
      for (let ok = 0; ; ok++) {
        const r = await this.health();
        if (r.status !== 200 || ok > 200) return { r, ok };
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
  };
}

test("--health-path: 200 while serving; 503 once a stop began, while in-flight requests finish; not subject to --status-allow", async (t) => {
  const server = await startServer(["--workers", "1", "--port", "0", "--host", "127.0.0.1", "--status-allow", "10.0.0.0/8", "-E", "production", ...HEALTH, ...STATUS, SLOW]);
  t.after(() => server.stop("SIGKILL"));
  const ok = await get(server, "/healthz");
  assert.equal(ok.status, 200);
  assert.equal(ok.body, "ok\n");
  assert.equal((await get(server, "/server-status")).status, 403);
  const probe = await idleConnection(server);
  const slow = get(server, "/slow?ms=1500");
  await waitForOutput(server, /slow started/);
  server.proc.kill("SIGTERM");
  await waitForOutput(server, /SIGTERM: stopping gracefully/);
  const { r: health } = await probe.untilStopping();
  assert.equal(health.status, 503);
  assert.equal(health.headers.connection?.[0], "close");
  assert.equal(health.body, "stopping\n");
  const r = await slow;
  assert.equal(r.status, 200);
  assert.match(r.body, /^slow done/);
  assert.deepEqual(await server.exited, { code: 0, signal: null });
});

test("--health-path across a HUP: the old worker answers 503 while it drains, the new generation 200", async (t) => {
  const server = await startServer(["--workers", "1", "--port", "0", "--host", "127.0.0.1", "-E", "production", ...HEALTH, ...STATUS, SLOW]);
  t.after(() => server.stop("SIGKILL"));
  const [old] = workerPids(server);
  const probe = await idleConnection(server);
  const slow = get(server, "/slow?ms=3000");
  await waitForOutput(server, /slow started/);
  server.proc.kill("SIGHUP");
  // Once the new worker is ready the old one is retired: it drains its slow request.
  for (let i = 0; ; i++) {
    const doc = await statusJson(server);
    if (doc.workers.find((w) => w.pid === old)?.state === "stopping") break;
    assert.ok(i < 400, "the old worker never began to stop");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const { r: oldHealth } = await probe.untilStopping();
  assert.equal(oldHealth.status, 503);
  const health = await get(server, "/healthz");
  assert.equal(health.status, 200);
  assert.equal((await slow).status, 200);
  await waitForOutput(server, /reloaded: generation 2 is serving/);
  const doc = await statusJson(server);
  assert.equal(doc.generation, 2);
  assert.deepEqual(doc.workers.map((w) => [w.generation, w.state]), [[2, "idle"]]);
  assert.notEqual(doc.workers[0].pid, old);
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});

test("--access-log-format json: one object per line with every field; USR2 reopens the file (logrotate), a USR2 to a worker does not kill it", async (t) => {
  const dir = tmpdir();
  const log = path.join(dir, "access.log");
  const server = await startServer(["--workers", "2", "--port", "0", "--host", "127.0.0.1", "-E", "production", "--access-log", log, "--access-log-format", "json", SLOW]);
  t.after(() => server.stop("SIGKILL"));
  await get(server, "/a?q=1", { headers: "Referer: http://example/\r\nUser-Agent: t \"quoted\"\r\n" });
  await get(server, "/b");
  const lines = async (file, n) => {
    for (let i = 0; i < 200; i++) {
      const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
      const l = text.split("\n").filter(Boolean);
      if (l.length >= n) return l.map((x) => JSON.parse(x));
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`${file}: fewer than ${n} lines`);
  };
  const [a, b] = await lines(log, 2);
  assert.deepEqual(Object.keys(a), ["time", "remote", "method", "target", "protocol", "status", "bytes", "referer", "user_agent"]);
  assert.equal(a.remote, "127.0.0.1");
  assert.deepEqual([a.method, a.target, a.protocol, a.status, a.referer, a.user_agent], ["GET", "/a?q=1", "HTTP/1.1", 200, "http://example/", 't "quoted"']);
  assert.ok(a.bytes > 0);
  assert.ok(Math.abs(Date.parse(a.time) - Date.now()) < 60_000);
  assert.equal(b.referer, null);

  // logrotate: move the file away, USR2, and the next lines go to a new file at the old name.
  fs.renameSync(log, `${log}.1`);
  for (const pid of workerPids(server)) process.kill(pid, "SIGUSR2"); // as `systemctl kill -s USR2` would
  server.proc.kill("SIGUSR2");
  await waitForOutput(server, /SIGUSR2: workers reopen their access logs/);
  await new Promise((resolve) => setTimeout(resolve, 200));
  for (let i = 0; i < 6; i++) assert.equal((await get(server, `/after${i}`)).status, 200);
  const after = await lines(log, 6);
  assert.deepEqual(after.map((x) => x.target).sort(), [0, 1, 2, 3, 4, 5].map((i) => `/after${i}`));
  assert.equal((await lines(`${log}.1`, 2)).length, 2);
  assert.doesNotMatch(server.output(), /exited|respawning/, "no worker died of USR2");
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});

// On Deno the worker stops serving once the pipe is full (about request 225 here), although a
// lone node:fs.write to a full FIFO leaves Deno's timers running: not yet understood.
const DENO_STALLS = RUNTIME === "deno" && "on Deno a write that waits stalls the worker (known, not yet fixed)";

test("--access-log to a file that takes no writes (a FIFO nobody reads) does not slow the requests", { skip: DENO_STALLS }, async (t) => {
  const dir = tmpdir();
  const fifo = path.join(dir, "log.fifo");
  const { execFileSync } = await import("node:child_process");
  execFileSync("mkfifo", [fifo]);
  // A reader that never reads: the pipe's 64 KiB fill up, and every further write waits.
  const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  t.after(() => fs.closeSync(reader));
  const server = await startServer(["--workers", "1", "--port", "0", "--host", "127.0.0.1", "-E", "production", "--access-log", fifo, SLOW]);
  t.after(() => server.stop("SIGKILL"));
  const target = `/${"x".repeat(200)}`; // ~300-byte lines: 64 KiB is about 220 of them
  const start = Date.now();
  let worst = 0;
  for (let i = 0; i < 1000; i++) {
    const t0 = Date.now();
    const r = await get(server, target, { timeoutMs: 5000 });
    assert.equal(r.status, 200, `request ${i}`);
    worst = Math.max(worst, Date.now() - t0);
  }
  const took = Date.now() - start;
  console.log(`access log to a stalled FIFO on ${RUNTIME}: 1000 requests in ${took} ms, slowest ${worst} ms`);
  assert.ok(worst < 2000, `slowest request ${worst} ms`);
  // The log was written up to what the pipe holds, and the rest waits, in order.
  const buf = Buffer.alloc(65536);
  const n = fs.readSync(reader, buf);
  assert.match(buf.subarray(0, n).toString("latin1"), /^127\.0\.0\.1 - - \[[^\]]+\] "GET \/x+ HTTP\/1\.1" 200 /);
  await server.stop("SIGKILL");
});
