// The programmatic API: `import { serve } from "pronghorn"; serve({ fetch, ...options })` takes
// the CLI's options in camelCase, re-runs the calling script as each worker's entry, and rejects
// a bad option with a ConfigError (code PRONGHORN_BAD_OPTION) naming it.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { ROOT, RUNTIME_LABEL, startServer, writeApp, baseUrl, runCli } from "./harness.js";

const INDEX = JSON.stringify(path.join(ROOT, "dist", "index.js"));

test("serve({ fetch, port: 0, workers: 2 }) serves the handler from two worker processes and stops on TERM", async (t) => {
  const script = writeApp(`import { serve } from ${INDEX};
await serve({ port: 0, host: "127.0.0.1", workers: 2, env: "production",
  fetch: (req, info) => new Response(req.method + " " + new URL(req.url).pathname + " from " + info.worker.pid) });
`, "server.mjs");
  const server = await startServer([], { script });
  t.after(() => server.stop("SIGKILL"));
  assert.match(server.output(), new RegExp(`\\(${RUNTIME_LABEL}, 2 workers\\)`));
  const pids = new Set();
  for (let i = 0; i < 20; i++) {
    const res = await fetch(`${baseUrl(server)}/hi`, { headers: { connection: "close" } });
    const text = await res.text();
    assert.match(text, /^GET \/hi from \d+$/);
    pids.add(text.split(" ").pop());
  }
  assert.ok(!pids.has(String(server.pid)), "the supervisor serves no request");
  assert.deepEqual(await server.stop("SIGTERM"), { code: 0, signal: null });
});

test("serve() rejects a bad option with a ConfigError naming it", async () => {
  const script = writeApp(`import { serve } from ${INDEX};
try { await serve({ fetch: () => new Response(""), workers: "four" }); }
catch (err) { console.log(err.code + " " + err.message); process.exit(3); }
`, "bad.mjs");
  const r = await runCli([], { script });
  assert.equal(r.code, 3, r.out);
  assert.match(r.stdout, /^PRONGHORN_BAD_OPTION pronghorn: --workers: expected a whole number >= 1, got "four"/);
});

test("serve() takes startupTimeout and rejects workers over 1024 like the CLI", async () => {
  const script = writeApp(`import { serve } from ${INDEX};
try { await serve({ fetch: () => new Response(""), startupTimeout: 5, workers: 5000 }); }
catch (err) { console.log(err.code + " " + err.message); process.exit(3); }
`, "bad.mjs");
  const r = await runCli([], { script });
  assert.equal(r.code, 3, r.out);
  assert.match(r.stdout, /^PRONGHORN_BAD_OPTION pronghorn: --workers: expected at most 1024, got "5000"/);
});
