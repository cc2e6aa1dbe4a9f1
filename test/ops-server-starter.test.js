// Hot deploy under the real Server::Starter (`start_server`, Debian's libserver-starter-perl):
// start_server holds the listening socket and passes it in SERVER_STARTER_PORT; on HUP it starts
// a new pronghorn, then signals the old one, which must stop without ever shutting the shared
// socket down (Gazelle issue #27). No request may fail, and the new code is served afterwards.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { startServer, writeApp, load, waitForOutput, requireTool, freePort } from "./harness.js";

const skip = requireTool("start_server");

const source = (version) =>
  `export default { fetch: (request, info) => new Response(${JSON.stringify(version)} + " pid " + info.worker.pid) };\n`;

/** start_server with `starterArgs`, running pronghorn with `args`. */
async function underStarter(starterArgs, args) {
  const wrap = (cmd, argv) => ["start_server", [...starterArgs, "--", cmd, ...argv]];
  return startServer(args, { wrap });
}

function tally() {
  const bodies = new Map();
  return { bodies, onBody: (b) => bodies.set(b.split(" ")[0], (bodies.get(b.split(" ")[0]) ?? 0) + 1) };
}

test("hot deploy under start_server (HUP) drops no request under load and serves the new code", { skip }, async (t) => {
  const app = writeApp(source("v1"));
  const port = await freePort();
  const server = await underStarter([`--port=127.0.0.1:${port}`], ["--workers", "2", "-E", "production", app]);
  t.after(() => server.stop("SIGKILL"));
  assert.deepEqual(server.urls, [`http://127.0.0.1:${port}/`]);
  const seen = tally();
  const loading = load(server, { clients: 6, durationMs: 3500, onBody: seen.onBody });
  await new Promise((resolve) => setTimeout(resolve, 500)); // load against generation 1 first
  fs.writeFileSync(app, source("v2"));
  server.proc.kill("SIGHUP");
  await waitForOutput(server, /old worker \d+ died, status:0/);
  const stats = await loading;
  console.log(`start_server hot deploy under load: ${stats.requests} requests, ${stats.failed} failed, ${stats.retried} retried; ${JSON.stringify(Object.fromEntries(seen.bodies))}`);
  assert.equal(stats.failed, 0, stats.errors.join("; "));
  assert.ok(seen.bodies.get("v1") > 0 && seen.bodies.get("v2") > 0);
  const after = tally();
  await load(server, { clients: 2, durationMs: 300, onBody: after.onBody });
  assert.deepEqual([...after.bodies.keys()], ["v2"]);
  const exit = await server.stop("SIGTERM");
  assert.equal(exit.signal, null);
  assert.match(server.output(), /SIGTERM: stopping gracefully/);
});

test("slow restart: start_server --signal-on-hup=USR1 with --spawn-interval retires the old workers one per interval", { skip }, async (t) => {
  const app = writeApp(source("v1"));
  const port = await freePort();
  const server = await underStarter([`--port=127.0.0.1:${port}`, "--signal-on-hup=USR1"], ["--workers", "2", "--spawn-interval", "0.3", "-E", "production", app]);
  t.after(() => server.stop("SIGKILL"));
  const seen = tally();
  const loading = load(server, { clients: 4, durationMs: 3500, onBody: seen.onBody });
  await new Promise((resolve) => setTimeout(resolve, 300));
  fs.writeFileSync(app, source("v2"));
  server.proc.kill("SIGHUP");
  await waitForOutput(server, /SIGUSR1: stopping gracefully, one worker per 0.3 s/);
  await waitForOutput(server, /old worker \d+ died, status:0/);
  const stats = await loading;
  console.log(`start_server slow restart (USR1) under load: ${stats.requests} requests, ${stats.failed} failed, ${stats.retried} retried; ${JSON.stringify(Object.fromEntries(seen.bodies))}`);
  assert.equal(stats.failed, 0, stats.errors.join("; "));
  assert.ok(seen.bodies.get("v2") > 0);
  await server.stop("SIGTERM");
});
