// Stopping (README.md "Signals"): TERM/INT/QUIT finish in-flight requests, close
// idle keep-alive connections and exit 0; a second signal or --graceful-timeout ends stragglers;
// USR1 stops one worker per --spawn-interval; a worker that dies is replaced without disturbing
// the others. Every server here is a real `dist/cli.js` process on the runtime under test.
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import path from "node:path";
import { once } from "node:events";
import { ROOT, startServer, get, rawExchange, addressOf, load, waitForOutput, splitResponses, isAlive } from "./harness.js";

const SLOW = path.join(ROOT, "test", "fixtures", "ops-slow.mjs");

/** A request the server is expected to cut off (no response): resolves { text, closed } once it closes. */
function cutOff(server, target) {
  return rawExchange(server, `GET ${target} HTTP/1.1\r\nHost: t\r\n\r\n`, { timeoutMs: 60000 });
}

/** A keep-alive connection that has served one request and now sits idle. */
async function idleConnection(server) {
  const sock = net.connect(addressOf(server));
  await once(sock, "connect");
  sock.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  await once(sock, "data");
  const closed = new Promise((resolve) => sock.on("close", resolve));
  sock.on("error", () => {});
  return { sock, closed };
}

test("TERM finishes a slow request in flight, answers a request that reaches an idle keep-alive connection just after it, closes silent ones within about a second, and exits 0", async (t) => {
  const server = await startServer(["--workers", "2", "--port", "0", "-E", "production", SLOW]);
  t.after(() => server.stop("SIGKILL"));
  const idle = await idleConnection(server);
  const reused = await idleConnection(server);
  const slow = get(server, "/slow?ms=1500", { timeoutMs: 60000 });
  await waitForOutput(server, /slow started/);
  const termAt = Date.now();
  server.proc.kill("SIGTERM");
  await waitForOutput(server, /SIGTERM: stopping gracefully/);
  // a request already on its way when the worker stops must be served, not dropped
  let reply = "";
  reused.sock.on("data", (c) => (reply += c.toString("latin1")));
  reused.sock.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  await reused.closed;
  await idle.closed;
  const idleClosedAfter = Date.now() - termAt;
  const res = await slow;
  const { code, signal } = await server.exited;
  console.log(`graceful stop: silent keep-alive closed ${idleClosedAfter} ms after TERM; request on a reused connection answered ${splitResponses(reply)[0]?.status}; slow request answered ${res.status}; exit ${code}`);
  const again = splitResponses(reply);
  assert.equal(again.length, 1);
  assert.equal(again[0].status, 200);
  // (with Connection: close if the worker was already stopping when it arrived, else the
  // connection closes after its STOP_IDLE_MS of silence: either way it is answered, then closed)
  assert.equal(res.status, 200);
  assert.match(res.body, /^slow done by \d+/);
  assert.ok(idleClosedAfter < 2500, `idle connection closed after ${idleClosedAfter} ms`);
  assert.deepEqual({ code, signal }, { code: 0, signal: null });
});

test("one Ctrl-C (INT to the whole process group) is still graceful", async (t) => {
  // setsid makes the server a process-group leader, as a shell job is.
  const wrap = (cmd, args) => ["setsid", [cmd, ...args]];
  const server = await startServer(["--workers", "2", "--port", "0", "-E", "production", SLOW], { wrap });
  t.after(() => server.stop("SIGKILL"));
  const slow = get(server, "/slow?ms=1000", { timeoutMs: 60000 });
  await waitForOutput(server, /slow started/);
  process.kill(-server.pid, "SIGINT");
  assert.equal((await slow).status, 200);
  assert.deepEqual(await server.exited, { code: 0, signal: null });
});

const UNCAUGHT = path.join(ROOT, "test", "fixtures", "ops-uncaught.mjs");
/** Workers started so far: ops-uncaught.mjs logs "app loaded PID" as each one imports it. */
const spawned = (server) => (server.output().match(/app loaded \d+/g) ?? []).length;

for (const signal of ["SIGINT", "SIGTERM"]) {
  test(`${signal} to the whole process group (Ctrl-C, kill -${signal.slice(3)} -PGID, systemd's KillMode=control-group) stops everything gracefully and starts no replacement worker`, async (t) => {
    // setsid makes the server a process-group leader, as a shell job is.
    const wrap = (cmd, args) => ["setsid", [cmd, ...args]];
    const server = await startServer(["--workers", "3", "--port", "0", "-E", "production", UNCAUGHT], { wrap });
    t.after(() => server.stop("SIGKILL"));
    assert.equal(spawned(server), 3);
    process.kill(-server.pid, signal);
    const exit = await server.exited;
    // A replacement the supervisor started would log its import even while told to stop; give
    // its output the time a worker takes to start.
    await new Promise((resolve) => setTimeout(resolve, 300));
    console.log(`${signal} to the group: exit ${exit.code ?? exit.signal}; workers started ${spawned(server)}; ${/stopping gracefully \((\d+) worker/.exec(server.output())?.[1]} stopping`);
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.match(server.output(), new RegExp(`${signal}: stopping gracefully \\(3 workers finish their requests\\)`));
    assert.equal(spawned(server), 3, server.output());
  });
}

test("INT to one worker alone retires it and it is replaced", async (t) => {
  const server = await startServer(["--workers", "1", "--port", "0", "-E", "production", UNCAUGHT]);
  t.after(() => server.stop("SIGKILL"));
  const pidOf = async () => Number(/pid (\d+)/.exec((await get(server, "/")).body)[1]);
  const first = await pidOf();
  process.kill(first, "SIGINT");
  await waitForOutput(server, /app loaded \d+[^]*app loaded \d+/);
  while (isAlive(first)) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.notEqual(await pidOf(), first);
  assert.doesNotMatch(server.output(), /respawning|stopping/);
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});

test("a second TERM ends a straggler at once", async (t) => {
  const server = await startServer(["--workers", "1", "--port", "0", "-E", "production", SLOW]);
  t.after(() => server.stop("SIGKILL"));
  const slow = cutOff(server, "/slow?ms=60000");
  await waitForOutput(server, /slow started/);
  server.proc.kill("SIGTERM");
  await waitForOutput(server, /SIGTERM: stopping gracefully/); // pending signals do not queue
  const start = Date.now();
  server.proc.kill("SIGTERM");
  const exit = await server.exited;
  const r = await slow;
  console.log(`second TERM: exited ${Date.now() - start} ms later`);
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.ok(Date.now() - start < 5000);
  assert.equal(r.closed, true);
  assert.match(server.output(), /SIGTERM again: closing every connection now/);
});

test("--graceful-timeout ends a straggler after the deadline", async (t) => {
  const server = await startServer(["--workers", "1", "--graceful-timeout", "0.5", "--port", "0", "-E", "production", SLOW]);
  t.after(() => server.stop("SIGKILL"));
  const slow = cutOff(server, "/slow?ms=60000");
  await waitForOutput(server, /slow started/);
  const start = Date.now();
  server.proc.kill("SIGTERM");
  const exit = await server.exited;
  const took = Date.now() - start;
  await slow;
  console.log(`graceful timeout 0.5 s: exited after ${took} ms`);
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.ok(took >= 450 && took < 5000, `took ${took} ms`);
});

test("a worker killed with SIGKILL is replaced and no request fails under load", async (t) => {
  const server = await startServer(["--workers", "2", "--port", "0", "-E", "production", SLOW]);
  t.after(() => server.stop("SIGKILL"));
  // A request already inside a killed worker is lost with it, on any server. So the victim is a
  // worker blocked in /spin, which accepts nothing: the test shows that killing it disturbs no
  // one else, and that its replacement takes load.
  const spin = cutOff(server, "/spin?ms=4000");
  await waitForOutput(server, /spinning \d+/);
  const victim = Number(/spinning (\d+)/.exec(server.output())[1]);
  const pids = new Set();
  const loading = load(server, { clients: 6, durationMs: 3000, onBody: (b) => pids.add(Number(/ok \d+ (\d+)/.exec(b)?.[1])) });
  await new Promise((resolve) => setTimeout(resolve, 300)); // let the load run against the survivor first
  process.kill(victim, "SIGKILL");
  await waitForOutput(server, new RegExp(`worker \\d \\(pid ${victim}\\) exited on SIGKILL; respawning in \\d+ ms`));
  const stats = await loading;
  await spin;
  console.log(`SIGKILL under load: ${stats.requests} requests, ${stats.failed} failed, ${stats.retried} retried; served by ${pids.size} pids`);
  assert.equal(stats.failed, 0, stats.errors.join("; "));
  assert.ok(!pids.has(victim));
  assert.equal(pids.size, 2, "the survivor and the replacement both served");
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});

test("USR1 stops one worker per --spawn-interval, serving meanwhile, then exits 0", async (t) => {
  const server = await startServer(["--workers", "3", "--spawn-interval", "0.4", "--port", "0", "-E", "production", SLOW]);
  t.after(() => server.stop("SIGKILL"));
  const start = Date.now();
  server.proc.kill("SIGUSR1");
  const stats = await load(server, { clients: 4, durationMs: 500 });
  const exit = await server.exited;
  const took = Date.now() - start;
  console.log(`USR1 paced stop (3 workers, 0.4 s): exited after ${took} ms; ${stats.requests} requests meanwhile, ${stats.failed} failed`);
  assert.equal(stats.failed, 0, stats.errors.join("; "));
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.ok(took >= 800, `three workers, one per 0.4 s, cannot all stop in ${took} ms`);
});

test("workers exit by themselves when their supervisor is SIGKILLed (no orphans)", async (t) => {
  const server = await startServer(["--workers", "2", "--port", "0", "-E", "production", SLOW]);
  t.after(() => server.stop("SIGKILL"));
  const pids = new Set();
  for (let i = 0; i < 200 && pids.size < 2; i++) {
    pids.add(Number(/ok \d+ (\d+)/.exec((await get(server, "/")).body)[1]));
  }
  assert.equal(pids.size, 2);
  server.proc.kill("SIGKILL");
  await server.exited;
  const alive = isAlive;
  const start = Date.now();
  // No event tells us another process's child exited: poll, bounded.
  while ([...pids].some(alive) && Date.now() - start < 5000) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual([...pids].filter(alive), [], "workers left behind");
});
