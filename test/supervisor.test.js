// The supervisor's policy against a fake SupervisorRuntime with a fake clock (FakeRuntime below;
// the supervisor sees nothing else, docs/architecture.md "Layers, and what each may know"): no
// real process. Each test names the guarantee; the black-box counterparts are test/ops-*.test.js.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Supervisor, BACKOFF_FIRST_MS, BACKOFF_MAX_MS, STABLE_MS, KILL_GRACE_MS, SIGNAL_SETTLE_MS } from "../dist/supervisor.js";
import { FakeClock } from "./harness.js";

class FakeRuntime extends FakeClock {
  name = "fake";
  pid = 1;
  procs = [];
  logs = [];
  exitCode = undefined;
  signal = null;

  spawnWorker(spec, events) {
    const p = {
      pid: 100 + this.procs.length,
      id: spec.id,
      generation: spec.generation,
      events,
      sent: [],
      killed: [],
      alive: true,
      send: (m) => p.sent.push(m.type),
      kill: (s) => p.killed.push(s),
    };
    this.procs.push(p);
    return p;
  }
  name = "node";
  version = "fake 1.0";
  onSignal(handler) {
    this.signal = handler;
  }
  log(line) {
    this.logs.push(line);
  }
  exit(code) {
    this.exitCode = code;
  }
  // --- driving workers ---
  ready(p) {
    p.events.message({ type: "ready" });
  }
  retiring(p) {
    p.events.message({ type: "retiring", reason: "quota" });
  }
  exited(p, code = 0, signal = null) {
    p.alive = false;
    p.events.exit(code, signal);
  }
  alive() {
    return this.procs.filter((p) => p.alive);
  }
}

function setup(opts = {}, { inherited = false } = {}) {
  const rt = new FakeRuntime();
  const listener = { url: "http://0.0.0.0:5000/", inherited, closed: 0, close() { this.closed++; } };
  const sup = new Supervisor(rt, { workers: 2, spawnIntervalMs: 0, gracefulTimeoutMs: 30000, payload: {}, ...opts }, [listener]);
  sup.start();
  return { rt, sup, listener };
}

test("starts N workers at once and announces each listener once all are ready", () => {
  const { rt } = setup({ workers: 3 });
  assert.equal(rt.procs.length, 3);
  assert.deepEqual(rt.procs.map((p) => p.id), [1, 2, 3]);
  rt.ready(rt.procs[0]);
  rt.ready(rt.procs[1]);
  assert.equal(rt.logs.length, 0);
  rt.ready(rt.procs[2]);
  assert.deepEqual(rt.logs, ["pronghorn: accepting connections at http://0.0.0.0:5000/ (fake 1.0, 3 workers)"]);
});

test("--spawn-interval starts at most one worker per interval", () => {
  const { rt } = setup({ workers: 3, spawnIntervalMs: 1000 });
  assert.equal(rt.procs.length, 1);
  rt.advance(999);
  assert.equal(rt.procs.length, 1);
  rt.advance(1);
  assert.equal(rt.procs.length, 2);
  rt.advance(1000);
  assert.equal(rt.procs.length, 3);
  rt.advance(5000);
  assert.equal(rt.procs.length, 3);
});

test("a crashing worker is respawned after a delay that doubles per crash in a row, capped, and logged", () => {
  const { rt } = setup({ workers: 1 });
  rt.ready(rt.procs[0]);
  const delays = [];
  for (let i = 0; i < 10; i++) {
    const p = rt.alive()[0];
    rt.exited(p, null, "SIGSEGV");
    const line = rt.logs.at(-1);
    assert.match(line, new RegExp(`^pronghorn: worker 1 \\(pid ${p.pid}\\) exited on SIGSEGV; respawning in \\d+ ms$`));
    const delay = Number(/in (\d+) ms/.exec(line)[1]);
    delays.push(delay);
    const before = rt.procs.length;
    rt.advance(delay - 1);
    assert.equal(rt.procs.length, before, "no respawn before the backoff ends");
    rt.advance(1);
    assert.equal(rt.procs.length, before + 1);
    rt.ready(rt.procs.at(-1));
  }
  assert.equal(delays[0], BACKOFF_FIRST_MS);
  assert.equal(delays[1], BACKOFF_FIRST_MS * 2);
  assert.equal(delays.at(-1), BACKOFF_MAX_MS);
});

test("a worker that was up for a while before dying starts a new streak (short delay again)", () => {
  const { rt } = setup({ workers: 1 });
  rt.ready(rt.procs[0]);
  for (let i = 0; i < 4; i++) {
    rt.exited(rt.alive()[0], 1);
    rt.advance(BACKOFF_MAX_MS);
    rt.ready(rt.alive()[0]);
  }
  assert.match(rt.logs.at(-1), /respawning in 800 ms/);
  rt.advance(STABLE_MS);
  rt.exited(rt.alive()[0], null, "SIGKILL");
  assert.match(rt.logs.at(-1), new RegExp(`respawning in ${BACKOFF_FIRST_MS} ms`));
});

test("three failed starts before any worker was ever ready end the supervisor with status 1", () => {
  const { rt } = setup({ workers: 1 });
  rt.exited(rt.procs[0], 1);
  rt.advance(BACKOFF_MAX_MS);
  rt.exited(rt.procs[1], 1);
  rt.advance(BACKOFF_MAX_MS);
  assert.equal(rt.exitCode, undefined);
  rt.exited(rt.procs[2], 1);
  assert.equal(rt.exitCode, 1);
  assert.match(rt.logs.at(-1), /giving up after 3 failed starts/);
});

test("a worker retiring at its quota is replaced as it stops accepting, before it exits", () => {
  const { rt } = setup({ workers: 2 });
  rt.procs.forEach((p) => rt.ready(p));
  rt.retiring(rt.procs[0]);
  assert.equal(rt.procs.length, 3, "replacement spawned at once");
  assert.equal(rt.procs[2].id, 1, "the replacement takes the retiring worker's slot");
  assert.ok(rt.procs[0].alive);
  rt.exited(rt.procs[0], 0);
  assert.equal(rt.procs.length, 3, "a clean exit after retiring spawns nothing more");
  assert.equal(rt.logs.filter((l) => /exited/.test(l)).length, 0, "quota exits are not logged");
});

test("a retiring worker that overstays --graceful-timeout gets stop-now, then SIGKILL", () => {
  const { rt } = setup({ workers: 1, gracefulTimeoutMs: 2000 });
  rt.ready(rt.procs[0]);
  rt.retiring(rt.procs[0]);
  rt.advance(1999);
  assert.deepEqual(rt.procs[0].sent, []);
  rt.advance(1);
  assert.deepEqual(rt.procs[0].sent, ["stop-now"]);
  rt.advance(KILL_GRACE_MS);
  assert.deepEqual(rt.procs[0].killed, ["SIGKILL"]);
});

test("HUP retires an old worker only once a new one is ready, one for one", () => {
  const { rt, sup } = setup({ workers: 2 });
  const [a, b] = rt.procs;
  rt.ready(a);
  rt.ready(b);
  rt.signal("SIGHUP");
  assert.equal(sup.generation, 2);
  const [c, d] = rt.procs.slice(2);
  assert.deepEqual([c.generation, d.generation], [2, 2]);
  assert.deepEqual([a.sent, b.sent], [[], []], "nothing retired before a new worker is ready");
  rt.ready(c);
  assert.deepEqual([a.sent, b.sent], [["stop"], []]);
  rt.exited(a, 0);
  assert.equal(rt.procs.length, 4, "an old worker's exit spawns nothing");
  rt.ready(d);
  assert.deepEqual(b.sent, ["stop"]);
  assert.ok(!rt.logs.some((l) => /reloaded/.test(l)), "not reloaded while an old worker still drains");
  rt.exited(b, 0);
  assert.match(rt.logs.at(-1), /^pronghorn: reloaded: generation 2 is serving \(2 workers\)$/);
});

test("HUP with --spawn-interval replaces one worker per interval", () => {
  const { rt } = setup({ workers: 3, spawnIntervalMs: 1000 });
  rt.advance(2000);
  rt.procs.forEach((p) => rt.ready(p));
  rt.advance(5000);
  rt.signal("SIGHUP");
  assert.equal(rt.procs.length, 4);
  rt.ready(rt.procs[3]);
  assert.equal(rt.procs.filter((p) => p.sent.includes("stop")).length, 1);
  rt.advance(999);
  assert.equal(rt.procs.length, 4);
  rt.advance(1);
  assert.equal(rt.procs.length, 5);
  rt.ready(rt.procs[4]);
  rt.advance(1000);
  assert.equal(rt.procs.length, 6);
  rt.ready(rt.procs[5]);
  assert.equal(rt.procs.slice(0, 3).filter((p) => p.sent.includes("stop")).length, 3);
});

test("HUP while the new generation cannot start keeps the old one serving", () => {
  const { rt } = setup({ workers: 1 });
  rt.ready(rt.procs[0]);
  rt.advance(STABLE_MS);
  rt.signal("SIGHUP");
  for (let i = 0; i < 5; i++) {
    rt.exited(rt.alive().at(-1), 1);
    rt.advance(BACKOFF_MAX_MS);
  }
  assert.deepEqual(rt.procs[0].sent, [], "the old worker is never asked to stop");
  assert.equal(rt.exitCode, undefined);
  assert.match(rt.logs.at(-1), /before it was ready; respawning in/);
});

test("a HUP after a crash streak starts the new generation at once, not after the streak's backoff", () => {
  const { rt } = setup({ workers: 1 });
  rt.ready(rt.procs[0]);
  rt.signal("SIGHUP");
  for (let i = 0; i < 6; i++) {
    rt.exited(rt.alive().at(-1), 1);
    rt.advance(BACKOFF_FIRST_MS * 2 ** i);
  }
  rt.exited(rt.alive().at(-1), 1); // the next respawn is 6.4 s away
  assert.match(rt.logs.at(-1), /respawning in 6400 ms/);
  const spawned = rt.procs.length;
  rt.signal("SIGHUP");
  assert.equal(rt.procs.length, spawned + 1, "generation 3 starts with the HUP");
  assert.equal(rt.procs.at(-1).generation, 3);
  rt.advance(10_000);
  assert.equal(rt.procs.length, spawned + 1, "and the old backoff timer spawns nothing more");
});

test("TERM stops every worker gracefully, closes our copy of the listeners, and exits 0 once all exited", () => {
  const { rt, listener } = setup({ workers: 2 });
  rt.procs.forEach((p) => rt.ready(p));
  rt.signal("SIGTERM");
  assert.deepEqual(rt.procs.map((p) => p.sent), [["stop"], ["stop"]]);
  assert.equal(listener.closed, 1);
  rt.exited(rt.procs[0], 0);
  assert.equal(rt.exitCode, undefined);
  rt.exited(rt.procs[1], 0);
  assert.equal(rt.exitCode, 0);
  assert.equal(rt.procs.length, 2, "nothing respawned while stopping");
});

test("TERM leaves inherited listeners (Server::Starter, systemd) open", () => {
  const { rt, listener } = setup({ workers: 1 }, { inherited: true });
  rt.ready(rt.procs[0]);
  rt.signal("SIGTERM");
  assert.equal(listener.closed, 0);
  rt.exited(rt.procs[0], 0);
  assert.equal(rt.exitCode, 0);
});

test("a second TERM closes every connection now; a third kills", () => {
  const { rt } = setup({ workers: 1 });
  rt.ready(rt.procs[0]);
  rt.signal("SIGTERM");
  rt.signal("SIGINT");
  assert.deepEqual(rt.procs[0].sent, ["stop", "stop-now"]);
  rt.signal("SIGTERM");
  assert.deepEqual(rt.procs[0].killed, ["SIGKILL"]);
});

test("USR1 stops one worker per --spawn-interval, then exits", () => {
  const { rt } = setup({ workers: 3, spawnIntervalMs: 500 });
  rt.advance(1000);
  rt.procs.forEach((p) => rt.ready(p));
  rt.signal("SIGUSR1");
  const stopped = () => rt.procs.filter((p) => p.sent.includes("stop")).length;
  assert.equal(stopped(), 1);
  rt.advance(499);
  assert.equal(stopped(), 1);
  rt.advance(1);
  assert.equal(stopped(), 2);
  rt.advance(500);
  assert.equal(stopped(), 3);
  rt.procs.forEach((p) => rt.exited(p, 0));
  assert.equal(rt.exitCode, 0);
  assert.equal(rt.procs.length, 3);
});

test("Ctrl-C to the process group (INT to every worker and to the supervisor, in either order) spawns no replacement", () => {
  for (const order of ["workers first", "supervisor first", "supervisor late in the window"]) {
    const { rt } = setup({ workers: 2 });
    rt.procs.forEach((p) => rt.ready(p));
    const workersGetIt = () => rt.procs.forEach((p) => p.events.message({ type: "retiring", reason: "SIGINT", signal: "SIGINT" }));
    if (order === "supervisor first") rt.signal("SIGINT");
    workersGetIt();
    if (order === "workers first") rt.signal("SIGINT");
    if (order === "supervisor late in the window") {
      rt.advance(SIGNAL_SETTLE_MS - 1);
      rt.signal("SIGINT");
    }
    rt.advance(BACKOFF_MAX_MS);
    assert.equal(rt.procs.length, 2, `${order}: no replacement spawned`);
    rt.procs.forEach((p) => rt.exited(p, 0));
    assert.equal(rt.exitCode, 0, order);
  }
});

test("a worker that retires on a signal of its own is replaced once the supervisor had none within SIGNAL_SETTLE_MS", () => {
  const { rt } = setup({ workers: 2 });
  rt.procs.forEach((p) => rt.ready(p));
  rt.procs[0].events.message({ type: "retiring", reason: "SIGTERM", signal: "SIGTERM" });
  assert.equal(rt.procs.length, 2);
  rt.exited(rt.procs[0], 0);
  assert.equal(rt.procs.length, 2, "its exit within the window spawns nothing yet");
  rt.advance(SIGNAL_SETTLE_MS);
  assert.equal(rt.procs.length, 3);
  assert.equal(rt.procs[2].id, 1);
  assert.ok(!rt.logs.some((l) => /respawning/.test(l)), "a retirement is not a crash");
});

test("a worker not ready within --startup-timeout gets TERM, then SIGKILL, and counts as a failed start", () => {
  const { rt } = setup({ workers: 1, startupTimeoutMs: 5000 });
  const [a] = rt.procs;
  rt.advance(4999);
  assert.deepEqual(a.killed, []);
  rt.advance(1);
  assert.deepEqual(a.killed, ["SIGTERM"]);
  assert.match(rt.logs.at(-1), /^pronghorn: worker 1 \(pid 100\) not ready within 5 s \(--startup-timeout\); stopping it$/);
  // What a loading worker says on its TERM changes nothing: it is a failed start.
  a.events.message({ type: "retiring", reason: "SIGTERM", signal: "SIGTERM" });
  a.events.message({ type: "ready" });
  rt.advance(KILL_GRACE_MS);
  assert.deepEqual(a.killed, ["SIGTERM", "SIGKILL"]);
  rt.exited(a, null, "SIGKILL");
  assert.match(rt.logs.at(-1), /worker 1 \(pid 100\) was stopped after --startup-timeout \(exited on SIGKILL\); respawning in 100 ms$/);
  rt.advance(BACKOFF_FIRST_MS);
  assert.equal(rt.procs.length, 2);
  rt.ready(rt.procs[1]);
  rt.advance(10_000);
  assert.deepEqual(rt.procs[1].killed, [], "a worker ready in time is left alone");
});

test("three workers in a row not ready within --startup-timeout end the supervisor with status 1", () => {
  const { rt } = setup({ workers: 1, startupTimeoutMs: 1000 });
  for (let i = 0; i < 3; i++) {
    rt.advance(1000);
    const p = rt.procs.at(-1);
    assert.deepEqual(p.killed, ["SIGTERM"]);
    rt.exited(p, 0);
    rt.advance(BACKOFF_FIRST_MS * 2 ** i);
  }
  assert.equal(rt.exitCode, 1);
  assert.match(rt.logs.at(-1), /was stopped after --startup-timeout \(exited with status 0\); giving up after 3 failed starts$/);
});

test("a HUP whose new workers never get ready keeps the old generation serving", () => {
  const { rt } = setup({ workers: 1, startupTimeoutMs: 1000 });
  rt.ready(rt.procs[0]);
  rt.signal("SIGHUP");
  for (let i = 0; i < 5; i++) {
    rt.advance(1000);
    const p = rt.alive().at(-1);
    assert.equal(p.generation, 2);
    rt.exited(p, 0);
    rt.advance(BACKOFF_MAX_MS);
  }
  assert.deepEqual(rt.procs[0].sent, []);
  assert.deepEqual(rt.procs[0].killed, []);
  assert.equal(rt.exitCode, undefined);
});

test("TERM while a worker is starting: --startup-timeout no longer applies to it", () => {
  const { rt } = setup({ workers: 1, startupTimeoutMs: 1000 });
  rt.signal("SIGTERM");
  rt.advance(500);
  rt.advance(5000);
  assert.deepEqual(rt.procs[0].killed, []);
  assert.deepEqual(rt.procs[0].sent, ["stop"]);
});

test("a worker retiring after a storm of uncaught errors is replaced after the crash backoff", () => {
  const { rt } = setup({ workers: 1 });
  rt.ready(rt.procs[0]);
  rt.procs[0].events.message({ type: "retiring", reason: "uncaught errors", errors: 100 });
  assert.match(rt.logs.at(-1), /^pronghorn: worker 1 \(pid 100\) retires after 100 uncaught errors; replacing it in 100 ms$/);
  assert.equal(rt.procs.length, 1);
  rt.advance(BACKOFF_FIRST_MS);
  assert.equal(rt.procs.length, 2);
  rt.ready(rt.procs[1]);
  rt.procs[1].events.message({ type: "retiring", reason: "uncaught errors", errors: 100 });
  assert.match(rt.logs.at(-1), /replacing it in 200 ms$/);
});
