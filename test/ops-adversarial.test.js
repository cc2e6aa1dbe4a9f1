// Adversarial black-box tests of the supervisor and the CLI: reloads with code that cannot load,
// HUP storms, crash loops, leaks across reloads, signals that arrive while a worker is still
// loading, a --child-exit hook that never returns, and listener or environment values that must
// fail with one line. Every server is a real `dist/cli.js` process (on the runtime under test) on loopback; every load is
// bounded and printed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import path from "node:path";
import { ROOT, startServer, writeApp, tmpdir, load, waitForOutput, rawExchange, isAlive, runCli, runtimeCommand, runtimeEnv, until } from "./harness.js";

const FIX = (name) => path.join(ROOT, "test", "fixtures", name);
const HELLO = FIX("ops-hello.mjs");
const GOOD = `export default { fetch: (request, info) => new Response("gen " + info.worker.generation) };\n`;

/** CPU time (user + system, in clock ticks) a process has used, from /proc/PID/stat. */
function cpuTicks(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

function children(pid) {
  return fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d)).filter((d) => {
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
      return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1] === String(pid);
    } catch {
      return false; // exited meanwhile
    }
  }).map((d) => {
    const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
    return { pid: Number(d), state: stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0] };
  });
}

const alive = isAlive;

test("HUP with code that cannot load keeps the old generation serving with no failed request, backs off, and a later HUP with fixed code reloads at once", async (t) => {
  const app = writeApp(GOOD);
  const server = await startServer(["--workers", "2", "--port", "0", "-E", "production", app]);
  t.after(() => server.stop("SIGKILL"));
  const bodies = new Map();
  const loading = load(server, { clients: 4, durationMs: 6000, onBody: (b) => bodies.set(b, (bodies.get(b) ?? 0) + 1) });
  fs.writeFileSync(app, "export default { fetch: () => new Response('broken') ;\n");
  server.proc.kill("SIGHUP");
  // Let the crash streak grow until the next respawn is seconds away (3.2 s: far enough that a
  // fixed reload which waited it out cannot be mistaken for one slowed by a busy machine).
  await waitForOutput(server, /respawning in 3200 ms/);
  fs.writeFileSync(app, GOOD);
  const hupAt = Date.now();
  server.proc.kill("SIGHUP");
  await waitForOutput(server, /reloaded: generation 3 is serving \(2 workers\)/);
  const took = Date.now() - hupAt;
  const stats = await loading;
  const delays = [...server.output().matchAll(/respawning in (\d+) ms/g)].map((m) => Number(m[1]));
  console.log(`HUP with a syntax error, then fixed, under load: ${stats.requests} requests, ${stats.failed} failed; backoff ${delays.join(", ")} ms; fixed reload took ${took} ms; ${JSON.stringify(Object.fromEntries(bodies))}`);
  assert.equal(stats.failed, 0, stats.errors.join("; "));
  assert.ok(bodies.get("gen 1") > 0, "the old generation served meanwhile");
  assert.equal(bodies.get("broken"), undefined);
  assert.match(server.output(), /cannot load .*SyntaxError/);
  for (let i = 1; i < delays.length; i++) assert.equal(delays[i], delays[i - 1] * 2, `backoff ${delays.join(", ")}`);
  // An operator's HUP is new code: it must not wait out the broken code's backoff.
  assert.ok(took < 2800, `the fixed reload waited ${took} ms (the broken code's backoff was 3200 ms)`);
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});

for (const [what, source] of [
  ["throws at import", "throw new Error('boom at import');\n"],
  ["exports no fetch", "export default { hello: 1 };\n"],
]) {
  test(`HUP with an app that ${what}: the failure is logged and the old generation keeps serving`, async (t) => {
    const app = writeApp(GOOD);
    const server = await startServer(["--workers", "1", "--port", "0", "-E", "production", app]);
    t.after(() => server.stop("SIGKILL"));
    fs.writeFileSync(app, source);
    server.proc.kill("SIGHUP");
    await waitForOutput(server, /exited with status 1 before it was ready; respawning in \d+ ms/);
    const r = await rawExchange(server, "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert.match(r.text, /^HTTP\/1\.1 200 .*gen 1$/s);
    assert.match(server.output(), what === "throws at import" ? /boom at import/ : /the default export must be \{ fetch\(request, info\) \}/);
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });
}

test("five HUPs in quick succession under load drop no request and end with one generation serving", async (t) => {
  const server = await startServer(["--workers", "2", "--port", "0", "-E", "production", HELLO]);
  t.after(() => server.stop("SIGKILL"));
  const loading = load(server, { clients: 6, durationMs: 2500 });
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (let i = 0; i < 5; i++) {
    server.proc.kill("SIGHUP");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  // A HUP that arrives while an earlier one is still pending is merged with it: the kernel keeps
  // one pending instance of a standard signal (on a busy machine the supervisor may not run
  // between two kill()s 20 ms apart), and Deno keeps one pending flag per signal (tokio's signal
  // streams). So five HUPs can be fewer reloads. What must hold: the last generation started
  // ends up serving, with no request lost on the way.
  const last = await until(() => {
    const out = server.output();
    const started = [...out.matchAll(/starting generation (\d+)/g)].map((m) => Number(m[1]));
    const g = Math.max(...started);
    return started.length > 0 && new RegExp(`reloaded: generation ${g} is serving \\(2 workers\\)`).test(out) && g;
  }, "the last generation started serving", 20000);
  t.diagnostic(`5 HUPs: generation ${last} serving`);
  const stats = await loading;
  console.log(`5 HUPs under load: ${stats.requests} requests, ${stats.failed} failed, ${stats.retried} retried`);
  assert.equal(stats.failed, 0, stats.errors.join("; "));
  assert.equal(children(server.pid).length, 2);
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});

test("20 HUP reloads leak no fd, no worker and no zombie in the supervisor", async (t) => {
  const dir = tmpdir();
  const sock = path.join(dir, "s.sock");
  const server = await startServer(["--workers", "2", "--listen", "127.0.0.1:0", "--listen", "[::1]:0", "--listen", sock, "-E", "production", HELLO], { listeners: 3 });
  t.after(() => server.stop("SIGKILL"));
  const fds = () => fs.readdirSync(`/proc/${server.pid}/fd`).length;
  const before = { fds: fds(), workers: children(server.pid).length };
  for (let g = 2; g <= 21; g++) {
    server.proc.kill("SIGHUP");
    await waitForOutput(server, new RegExp(`reloaded: generation ${g} is serving`));
  }
  const kids = children(server.pid);
  const after = { fds: fds(), workers: kids.length };
  console.log(`20 HUPs: supervisor fds ${before.fds} -> ${after.fds}, workers ${before.workers} -> ${after.workers}`);
  assert.deepEqual(after, before);
  assert.deepEqual(kids.filter((k) => k.state === "Z"), []);
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
  assert.equal(fs.existsSync(sock), false, "the socket file is removed on exit");
});

test("a crash loop (the app exits the process on every request) backs off, logs each delay, and costs the supervisor almost no CPU", async (t) => {
  const server = await startServer(["--workers", "1", "--port", "0", "-E", "production", FIX("ops-adv-crash.mjs")]);
  t.after(() => server.stop("SIGKILL"));
  const cpuBefore = cpuTicks(server.pid);
  const start = Date.now();
  let requests = 0;
  while (Date.now() - start < 2500) {
    await rawExchange(server, "GET / HTTP/1.1\r\nHost: t\r\n\r\n", { timeoutMs: 500 });
    requests++;
  }
  const cpu = cpuTicks(server.pid) - cpuBefore;
  const delays = [...server.output().matchAll(/exited with status 3; respawning in (\d+) ms/g)].map((m) => Number(m[1]));
  console.log(`crash loop for 2.5 s: ${requests} requests sent, backoff ${delays.join(", ")} ms, supervisor CPU ${cpu} ticks`);
  assert.ok(delays.length >= 3 && delays.length <= 6, `${delays.length} crashes in 2.5 s`);
  assert.deepEqual(delays, delays.map((_, i) => 100 * 2 ** i));
  assert.ok(cpu < 50, `supervisor used ${cpu} ticks of CPU`);
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});

test("an app that throws at import in every generation ends the supervisor with status 1 after three failed starts", async () => {
  const app = writeApp("throw new Error('boom at import');\n");
  const start = Date.now();
  const r = await runCli(["--workers", "2", "--port", "0", "-E", "production", app]);
  console.log(`import error: exit ${r.code} after ${Date.now() - start} ms`);
  assert.equal(r.code, 1);
  assert.match(r.out, /giving up after 3 failed starts/);
  assert.ok((r.out.match(/cannot load/g) ?? []).length >= 3, r.out);
});

test("TERM and HUP while the workers are still loading the app: the loading workers stop at once and TERM exits 0", async () => {
  const [cmd, pre] = runtimeCommand();
  const proc = spawn(cmd, [...pre, "--workers", "2", "--port", "0", "-E", "production", FIX("ops-adv-slow-import.mjs")], { env: runtimeEnv(), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const importing = new Promise((resolve) => {
    const on = (c) => {
      out += c;
      if ((out.match(/importing \d+/g) ?? []).length >= 2) resolve();
    };
    proc.stdout.setEncoding("utf8").on("data", on);
    proc.stderr.setEncoding("utf8").on("data", on);
  });
  const exited = once(proc, "exit");
  const kill = setTimeout(() => proc.kill("SIGKILL"), 9000);
  await importing;
  proc.kill("SIGHUP"); // generation 2 starts, generation 1 (still loading) is told to stop
  while ((out.match(/importing \d+/g) ?? []).length < 4) await once(proc.stderr, "data");
  const termAt = Date.now();
  proc.kill("SIGTERM");
  const [code, signal] = await exited;
  clearTimeout(kill);
  const took = Date.now() - termAt;
  console.log(`TERM while loading: exit ${code ?? signal} after ${took} ms`);
  assert.equal(code, 0);
  assert.ok(took < 3000, `exited ${took} ms after TERM (the app takes 10 s to load)`);
});

test("a --child-exit hook that never returns does not keep a stopping worker past --graceful-timeout", async (t) => {
  const server = await startServer(["--workers", "1", "--port", "0", "--graceful-timeout", "0.5", "--child-exit", FIX("ops-adv-hang-exit.mjs"), "-E", "production", HELLO]);
  t.after(() => server.stop("SIGKILL"));
  const start = Date.now();
  server.proc.kill("SIGTERM");
  const exit = await server.exited;
  const took = Date.now() - start;
  console.log(`hung --child-exit, --graceful-timeout 0.5: exit ${exit.code} after ${took} ms`);
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.match(server.output(), /hook hangs/);
  assert.match(server.output(), /--child-exit did not finish/);
  assert.ok(took < 2500, `took ${took} ms`);
});

test("HUP and USR1 sent to a worker are ignored; TERM retires it and it is replaced", async (t) => {
  const server = await startServer(["--workers", "1", "--port", "0", "-E", "production", HELLO]);
  t.after(() => server.stop("SIGKILL"));
  const [worker] = children(server.pid);
  process.kill(worker.pid, "SIGHUP");
  process.kill(worker.pid, "SIGUSR1");
  const r = await rawExchange(server, "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  assert.match(r.text, new RegExp(`pid ${worker.pid}\\n$`));
  process.kill(worker.pid, "SIGTERM");
  while (alive(worker.pid)) await new Promise((resolve) => setTimeout(resolve, 20));
  const r2 = await rawExchange(server, "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  assert.match(r2.text, /^HTTP\/1\.1 200 /);
  assert.doesNotMatch(r2.text, new RegExp(`pid ${worker.pid}\\n$`));
  assert.doesNotMatch(server.output(), /respawning/, "a retirement is not a crash");
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});

test("--max-reqs-per-child 1 under load (a new worker per request) fails no request", async (t) => {
  const server = await startServer(["--workers", "2", "--port", "0", "--max-reqs-per-child", "1", "-E", "production", HELLO]);
  t.after(() => server.stop("SIGKILL"));
  // Every request costs a worker start (slower on a busy machine): long enough for a few dozen.
  const stats = await load(server, { clients: 4, durationMs: 3000 });
  console.log(`--max-reqs-per-child 1: ${stats.requests} requests, ${stats.failed} failed, ${stats.retried} retried`);
  assert.ok(stats.requests > 10);
  assert.equal(stats.failed, 0, stats.errors.join("; "));
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});

test("listener errors are one line and exit 1: a socket in a missing directory, a path that is a regular file, a path too long for a unix socket", async () => {
  const dir = tmpdir();
  const file = path.join(dir, "regular");
  fs.writeFileSync(file, "");
  const long = path.join(dir, "x".repeat(120) + ".sock");
  const cases = [
    [path.join(dir, "nodir", "app.sock"), /cannot listen on unix:.*\/nodir\/app\.sock: the directory .* does not exist/],
    [file, /cannot listen on unix:.*\/regular: the file exists and is not a socket/],
    [long, /cannot listen on unix:.*\.sock: the path is \d+ bytes long, over the 107-byte limit of a unix socket path/],
  ];
  for (const [where, re] of cases) {
    const r = await runCli(["--workers", "1", "--listen", where, "-E", "production", HELLO]);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, re);
    assert.equal(r.out.trim().split("\n").length, 1, r.out);
  }
  assert.deepEqual(fs.readdirSync(dir), ["regular"], "nothing left behind");
});

test("an empty --socket or --listen is a usage error (exit 2), not the current directory", async () => {
  for (const option of ["--socket", "--listen", "-S"]) {
    const r = await runCli(["--workers", "1", option, "", HELLO]);
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, new RegExp(`^pronghorn: ${option === "-S" ? "(-S|--socket)" : option} "": expected`));
  }
});

test("SERVER_STARTER_PORT naming an fd that is not open or not a socket is one line and exit 1, before any worker starts", async () => {
  for (const [value, re] of [
    ["5000=99", /inherited fd 99 \(5000\): the fd is not open/],
    ["5000=0", /inherited fd 0 \(5000\): not a socket/], // stdin is /dev/null here
  ]) {
    const r = await runCli(["--workers", "1", "-E", "production", HELLO], { env: { SERVER_STARTER_PORT: value } });
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, re);
    assert.equal(r.out.trim().split("\n").length, 1, r.out);
  }
});
