// A worker outlives the app's mistakes and the supervisor outlives a worker that never starts.
// "An app that throws gets a 500 and the worker lives on" (README.md "Errors the app leaves
// uncaught") holds outside a request's promise chain too: an abort listener that throws when the
// client goes away, a timer that throws, a rejection nobody awaits. Each is logged (with its stack
// in development) and the same worker serves the next request; a storm of them retires the worker
// gracefully. A worker whose app import never finishes is stopped after --startup-timeout, as a
// failed start.
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import path from "node:path";
import { once } from "node:events";
import { ROOT, startServer, get, addressOf, waitForOutput, runCli } from "./harness.js";

const FIX = (name) => path.join(ROOT, "test", "fixtures", name);
const UNCAUGHT = FIX("ops-uncaught.mjs");

/** The body of GET `target`, which must be answered 200. */
async function body(server, target) {
  const r = await get(server, target);
  assert.equal(r.status, 200, `GET ${target}: ${r.status} ${r.body}`);
  return r.body;
}

const pidOf = async (server) => Number(/^pid (\d+)/.exec(await body(server, "/"))[1]);

test("an abort listener that throws when the client disconnects, a timer that throws and a rejection nobody awaits are logged, and the same worker serves on", async (t) => {
  const server = await startServer(["--workers", "1", "--port", "0", "-E", "production", UNCAUGHT]);
  t.after(() => server.stop("SIGKILL"));
  const pid = await pidOf(server);

  // The client goes away mid-request: pronghorn aborts request.signal, whose listener throws.
  const sock = net.connect(addressOf(server));
  await once(sock, "connect");
  sock.write("GET /abort-throws HTTP/1.1\r\nHost: t\r\n\r\n");
  await waitForOutput(server, new RegExp(`abort armed ${pid}`));
  sock.destroy();
  await waitForOutput(server, new RegExp(`worker 1 \\(pid ${pid}\\): uncaught exception \\(the worker goes on\\): Error: abort listener threw in ${pid}\\n`));
  assert.equal(await pidOf(server), pid);

  assert.match(await body(server, "/timer-throws"), new RegExp(`timer set ${pid}`));
  await waitForOutput(server, new RegExp(`uncaught exception \\(the worker goes on\\): Error: timer threw in ${pid}\\n`));
  assert.equal(await pidOf(server), pid);

  assert.match(await body(server, "/reject"), new RegExp(`rejected ${pid}`));
  await waitForOutput(server, new RegExp(`unhandled rejection \\(the worker goes on\\): Error: nobody awaited this in ${pid}\\n`));
  assert.equal(await pidOf(server), pid);

  // Production: one line each, no stack.
  assert.doesNotMatch(server.output(), /^\s+at /m);
  assert.equal((server.output().match(/app loaded/g) ?? []).length, 1, "no worker was replaced");
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});

test("in development an uncaught error is logged with its stack", async (t) => {
  const server = await startServer(["--workers", "1", "--port", "0", "-E", "development", UNCAUGHT]);
  t.after(() => server.stop("SIGKILL"));
  const pid = await pidOf(server);
  await body(server, "/timer-throws");
  await waitForOutput(server, /uncaught exception \(the worker goes on\): Error: timer threw in \d+\n\s+at .*ops-uncaught\.mjs/);
  assert.equal(await pidOf(server), pid);
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});

test("a storm of uncaught errors (100 within 10 s) retires the worker gracefully and a new one takes over after the crash backoff", async (t) => {
  const server = await startServer(["--workers", "1", "--port", "0", "-E", "production", UNCAUGHT]);
  t.after(() => server.stop("SIGKILL"));
  const pid = await pidOf(server);
  await body(server, "/storm?n=100");
  await waitForOutput(server, new RegExp(`worker 1 \\(pid ${pid}\\): 100 uncaught errors within 10 s; retiring`));
  await waitForOutput(server, new RegExp(`worker 1 \\(pid ${pid}\\) retires after 100 uncaught errors; replacing it in 100 ms`));
  await waitForOutput(server, /app loaded \d+[^]*app loaded \d+/);
  let next = pid;
  for (let i = 0; i < 50 && next === pid; i++) next = await pidOf(server);
  assert.notEqual(next, pid);
  assert.doesNotMatch(server.output(), /exited/, "the storm ended in a clean retirement");
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});

test("a worker whose app import never finishes is stopped after --startup-timeout; three in a row end the supervisor with status 1", async () => {
  const start = Date.now();
  const r = await runCli(["--workers", "1", "--port", "0", "--startup-timeout", "0.5", "-E", "production", FIX("ops-adv-slow-import.mjs")], { env: { OPS_IMPORT_MS: "60000" } });
  const took = Date.now() - start;
  console.log(`--startup-timeout 0.5 with an import that takes 60 s: exit ${r.code} after ${took} ms`);
  assert.equal(r.code, 1, r.out);
  assert.equal((r.out.match(/not ready within 0\.5 s \(--startup-timeout\); stopping it/g) ?? []).length, 3, r.out);
  assert.match(r.out, /respawning in 100 ms[^]*respawning in 200 ms[^]*giving up after 3 failed starts/);
  assert.ok(took < 10_000, `took ${took} ms`);
});

test("a --startup-timeout the app loads within changes nothing", async (t) => {
  const server = await startServer(["--workers", "1", "--port", "0", "--startup-timeout", "5", "-E", "production", FIX("ops-adv-slow-import.mjs")], { env: { OPS_IMPORT_MS: "300" } });
  t.after(() => server.stop("SIGKILL"));
  assert.equal(await body(server, "/"), "loaded\n");
  assert.doesNotMatch(server.output(), /startup-timeout/);
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});
