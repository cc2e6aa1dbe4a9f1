// HUP is a graceful reload (README.md "Signals"; docs/architecture.md "The life of one reload"): a
// new generation of workers loads the app afresh, an old worker retires only once a new one is
// ready, and no request is refused or dropped meanwhile. With --spawn-interval the reload is
// really paced (Gazelle's finishes in about a second whatever the interval: README.md "How the
// defaults differ from Gazelle's, and why").
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { startServer, writeApp, load, waitForOutput } from "./harness.js";

const source = (version) =>
  `const VERSION = ${JSON.stringify(version)};\n` +
  `export default { fetch: (request, info) => new Response(VERSION + " gen " + info.worker.generation) };\n`;

/** `reached` resolves once `n` bodies were seen by a load run (race it with the run itself). */
function counter(n) {
  let seen = 0;
  let release;
  const reached = new Promise((r) => (release = r));
  return { reached, onBody: () => ++seen === n && release() };
}

test("HUP replaces every worker and drops no request under load; the new code is served afterwards", async (t) => {
  const app = writeApp(source("v1"));
  const server = await startServer(["--workers", "2", "--port", "0", "-E", "production", app]);
  t.after(() => server.stop("SIGKILL"));
  const bodies = new Map();
  const c = counter(300);
  const loading = load(server, {
    clients: 6,
    durationMs: 3000,
    onBody: (b) => {
      bodies.set(b, (bodies.get(b) ?? 0) + 1);
      c.onBody();
    },
  });
  await Promise.race([c.reached, loading]);
  fs.writeFileSync(app, source("v2"));
  server.proc.kill("SIGHUP");
  await waitForOutput(server, /reloaded: generation 2 is serving \(2 workers\)/);
  const stats = await loading;
  console.log(`HUP under load: ${stats.requests} requests, ${stats.failed} failed, ${stats.retried} retried on closed keep-alive connections; ${JSON.stringify(Object.fromEntries(bodies))}`);
  assert.equal(stats.failed, 0, stats.errors.join("; "));
  assert.ok(bodies.get("v1 gen 1") > 0 && bodies.get("v2 gen 2") > 0);

  const after = new Set();
  const stats2 = await load(server, { clients: 2, durationMs: 300, onBody: (b) => after.add(b) });
  assert.equal(stats2.failed, 0);
  assert.deepEqual([...after], ["v2 gen 2"]);
  assert.deepEqual(await server.stop("SIGTERM"), { code: 0, signal: null });
});

test("HUP with --spawn-interval replaces one worker per interval, still dropping nothing", async (t) => {
  const app = writeApp(source("v1"));
  const server = await startServer(["--workers", "3", "--spawn-interval", "0.4", "--port", "0", "-E", "production", app]);
  t.after(() => server.stop("SIGKILL"));
  const c = counter(100);
  const loading = load(server, { clients: 4, durationMs: 2500, onBody: c.onBody });
  await Promise.race([c.reached, loading]);
  const start = Date.now();
  server.proc.kill("SIGHUP");
  await waitForOutput(server, /reloaded: generation 2 is serving \(3 workers\)/);
  const took = Date.now() - start;
  const stats = await loading;
  console.log(`paced HUP under load (3 workers, 0.4 s interval): reload took ${took} ms; ${stats.requests} requests, ${stats.failed} failed, ${stats.retried} retried`);
  assert.equal(stats.failed, 0, stats.errors.join("; "));
  // Three spawns, one per 0.4 s: the third cannot start before 0.8 s.
  assert.ok(took >= 800, `reload took ${took} ms`);
  assert.deepEqual(await server.stop("SIGTERM"), { code: 0, signal: null });
});
