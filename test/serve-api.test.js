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

test("serve()'s options and the CLI's are one set: the option table's, each with its camelCase name", async () => {
  const { OPTIONS, helpText } = await import("../dist/config.js");
  const { optionsToArgv } = await import("../dist/index.js");
  const help = helpText();
  const camel = (long) => long.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
  const keys = [];
  for (const o of OPTIONS) {
    assert.ok(help.includes(`--${o.long} ${o.arg}`), `--help lists --${o.long}`);
    // Only the app module has no serve() name: serve() takes the fetch handler in code.
    if (o.long === "app") {
      assert.equal(o.key, undefined);
      continue;
    }
    assert.equal(o.key, camel(o.long), `--${o.long} is ${camel(o.long)} in serve()`);
    keys.push(o.key);
    const sample = o.kind === "string" || o.kind === "file" || o.kind === "listen" || o.kind === "path" || o.kind === "cidr" || o.kind === "choice" ? "x" : 1;
    assert.deepEqual(optionsToArgv({ [o.key]: sample }), [`--${o.long}`, String(sample)]);
  }
  // --help lists nothing else (besides --version and --help).
  const listed = [...help.matchAll(/^ {2}(?:-\w, | {4})--([a-z-]+)/gm)].map((m) => m[1]);
  assert.deepEqual(listed.sort(), [...OPTIONS.map((o) => o.long), "version", "help"].sort());
  assert.equal(new Set(keys).size, keys.length);
  assert.ok(keys.includes("statusPath") && keys.includes("healthPath") && keys.includes("accessLogFormat"));
  assert.throws(() => optionsToArgv({ frobnicate: 1 }), { code: "PRONGHORN_BAD_OPTION", message: 'pronghorn: unknown option "frobnicate" (see --help)' });
  assert.throws(() => optionsToArgv({ app: "x.js" }), { message: 'pronghorn: unknown option "app" (see --help)' });
});

test("serve() rejects an unknown option with the CLI's one line, and nothing starts", async () => {
  const script = writeApp(`import { serve } from ${INDEX};
try { await serve({ fetch: () => new Response(""), port: 0, frobnicate: 1 }); }
catch (err) { console.log(err.code + " " + err.message); process.exit(3); }
`, "unknown.mjs");
  const r = await runCli([], { script });
  assert.equal(r.code, 3, r.out);
  assert.equal(r.stdout, 'PRONGHORN_BAD_OPTION pronghorn: unknown option "frobnicate" (see --help)\n');
  const cli = await runCli(["--frobnicate", "1"]);
  assert.equal(cli.code, 2);
  assert.equal(cli.stderr, 'pronghorn: unknown option "--frobnicate" (see --help)\n');
});
