// Recycling (README.md "Recycling workers"): a worker at its --max-reqs-per-child quota, or
// one whose app called info.retire(), stops accepting, finishes what it has, runs the
// --child-exit hook and exits; its replacement starts as it stops accepting, so no request fails.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT, RUNTIME, startServer, get, load, tmpdir, waitForOutput } from "./harness.js";
import { requestLimit } from "../dist/worker.js";

const SLOW = path.join(ROOT, "test", "fixtures", "ops-slow.mjs");
const CHILD_EXIT = path.join(ROOT, "test", "fixtures", "ops-child-exit.mjs");

test("--max-reqs-per-child recycles workers under load and no request fails", async (t) => {
  const server = await startServer(["--workers", "2", "--max-reqs-per-child", "400", "--port", "0", "-E", "production", SLOW]);
  t.after(() => server.stop("SIGKILL"));
  const perPid = new Map();
  const stats = await load(server, {
    clients: 6,
    durationMs: 2500,
    onBody: (b) => {
      const pid = /ok \d+ (\d+)/.exec(b)[1];
      perPid.set(pid, (perPid.get(pid) ?? 0) + 1);
    },
  });
  console.log(`recycling by quota under load (400 per worker): ${stats.requests} requests, ${stats.failed} failed, ${stats.retried} retried; ${perPid.size} workers served`);
  assert.equal(stats.failed, 0, stats.errors.join("; "));
  assert.ok(perPid.size >= 4, `only ${perPid.size} workers served ${stats.requests} requests`);
  // The quota, plus at most one last (Connection: close) response per keep-alive connection.
  // Deno accepts from the kernel ahead of JS (into its own queue), so a client that reconnects
  // while the retiring worker's close() takes effect can land there once more, and is served.
  const slack = RUNTIME === "deno" ? 2 * 6 : 6;
  for (const [pid, n] of perPid) assert.ok(n <= 400 + slack, `worker ${pid} served ${n}`);
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});

test("--min-reqs-per-child picks each worker's limit uniformly in [min, max] (Gazelle's formula)", () => {
  assert.equal(requestLimit(0, undefined), 0);
  assert.equal(requestLimit(100, undefined), 100);
  assert.equal(requestLimit(100, 50, () => 0), 100);
  assert.equal(requestLimit(100, 50, () => 0.9999), 50);
  const seen = new Set(Array.from({ length: 2000 }, () => requestLimit(10, 8)));
  assert.deepEqual([...seen].sort(), [10, 8, 9].sort());
});

test("--child-exit runs before a worker exits: on its quota, on retire(), and on TERM", async (t) => {
  const log = path.join(tmpdir(), "child-exit.log");
  const env = { OPS_CHILD_EXIT_LOG: log };
  const server = await startServer(["--workers", "1", "--max-reqs-per-child", "3", "--child-exit", CHILD_EXIT, "--port", "0", "-E", "production", SLOW], { env });
  t.after(() => server.stop("SIGKILL"));
  const pids = [];
  for (let i = 0; i < 3; i++) pids.push(/ok 1 (\d+)/.exec((await get(server, "/")).body)[1]);
  assert.equal(new Set(pids).size, 1);
  // The quota worker's replacement was started as it stopped accepting: the next request succeeds.
  const next = await get(server, "/");
  assert.equal(next.status, 200);
  assert.notEqual(/ok 1 (\d+)/.exec(next.body)[1], pids[0]);
  const retired = await get(server, "/retire");
  assert.equal(retired.status, 200);
  const after = await get(server, "/");
  assert.equal(after.status, 200);
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
  const lines = fs.readFileSync(log, "utf8").trim().split("\n");
  const reasons = lines.map((l) => l.split(" ")[1]);
  assert.deepEqual(reasons, ["quota", "retire()", "stop"]);
  assert.equal(lines[0].split(" ")[0], pids[0]);
});
