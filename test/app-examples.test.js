// Every file in examples/ runs as it is, on the runtime under test (PRONGHORN_TEST_RUNTIME):
// the apps through the CLI, the Hono app with hono installed from the npm registry into a temp
// project, the nginx configurations through a real nginx (paths moved into a temp dir), the
// Server::Starter script under a real start_server, and the systemd unit's ExecStart line under
// systemd's socket-activation protocol (LISTEN_FDS, LISTEN_PID, the socket as fd 3).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { spawnSync } from "node:child_process";
import {
  ROOT, CLI, RUNTIME, startServer, tmpdir, rawExchange, splitResponses, requireTool, freePort, waitForOutput,
  runtimeBinary, runtimeCommand, runtimeRunsTypeScript, startNginx,
} from "./harness.js";

const EXAMPLES = path.join(ROOT, "examples");
const example = (name) => path.join(EXAMPLES, name);
const LOCAL = ["--workers", "1", "-E", "production", "--host", "127.0.0.1", "--port", "0"];
const noTypeScript = runtimeRunsTypeScript() ? false : `${RUNTIME} ${process.versions.node} cannot run a TypeScript app`;

/** One request on a fresh connection (`Connection: close`); resolves { status, headers, body, responses, text, localPort }. */
async function request(server, { method = "GET", target = "/", headers = {}, body = "", version = "1.1" } = {}) {
  const head = { host: "example.test", connection: "close", ...headers };
  if (body !== "" || method === "POST") head["content-length"] = String(Buffer.byteLength(body));
  // No half-close: a server may take the client's FIN for "gone" and cut a stream short.
  const lines = `${method} ${target} HTTP/${version}\r\n${Object.entries(head).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`;
  const { text, localPort } = await rawExchange(server, [Buffer.from(lines, "utf8"), Buffer.from(body, "utf8")], { timeoutMs: 15000 });
  const responses = splitResponses(text, { headRequests: method === "HEAD" ? [0] : [] });
  const final = responses.find((r) => !r.interim) ?? { status: 0, headers: {}, body: "" };
  return { ...final, body: Buffer.from(final.body, "latin1").toString("utf8"), responses, text, localPort };
}

async function serveExample(t, app, { args = [], env = {}, cwd } = {}) {
  const server = await startServer([...LOCAL, ...args, app], { env, cwd });
  t.after(() => server.stop("SIGKILL"));
  return server;
}

test("hello.js: Hello, World!", async (t) => {
  const server = await serveExample(t, example("hello.js"));
  const r = await request(server);
  assert.equal(r.status, 200);
  assert.equal(r.body, "Hello, World!");
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});

test("hello.ts: a TypeScript app as it is", { skip: noTypeScript }, async (t) => {
  const server = await serveExample(t, example("hello.ts"));
  const r = await request(server, { target: "/typed" });
  assert.equal(r.body, "Hello /typed from worker 1 (TypeScript)\n");
});

test("echo.js: GET describes the request, a POST body comes back as it was sent", async (t) => {
  const server = await serveExample(t, example("echo.js"));
  const get = await request(server, { target: "/x?y=1", headers: { "x-test": "yes" } });
  const json = JSON.parse(get.body);
  assert.equal(json.method, "GET");
  assert.equal(json.url, "http://example.test/x?y=1");
  assert.equal(json.headers["x-test"], "yes");
  const big = "0123456789abcdef".repeat(64 * 1024); // 1 MiB, streamed through
  const post = await request(server, { method: "POST", body: big, headers: { "content-type": "text/plain" } });
  assert.equal(post.status, 200);
  assert.equal(post.headers["content-type"][0], "text/plain");
  assert.equal(post.body.length, big.length);
  assert.equal(post.body, big);
});

test("streaming.js: five ticks, chunked", async (t) => {
  const server = await serveExample(t, example("streaming.js"));
  const r = await request(server);
  assert.equal(r.headers["transfer-encoding"][0], "chunked");
  assert.equal(r.body, "tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n");
});

test("sse.js: an event stream, resumed after Last-Event-ID", async (t) => {
  const server = await serveExample(t, example("sse.js"), { env: { SSE_EVENTS: "3", SSE_INTERVAL_MS: "20" } });
  const r = await request(server, { headers: { accept: "text/event-stream" } });
  assert.equal(r.status, 200);
  assert.equal(r.headers["content-type"][0], "text/event-stream; charset=utf-8");
  assert.equal(r.headers["cache-control"][0], "no-cache");
  assert.equal(r.headers["transfer-encoding"][0], "chunked");
  const events = r.body.split("\n\n").filter((e) => e.startsWith("id:"));
  assert.deepEqual(events.map((e) => /^id: (\d+)\nevent: tick\ndata: (\{.*\})$/.exec(e)?.[1]), ["1", "2", "3"]);
  assert.match(r.body, /^retry: 2000\n: served by worker 1\n\n/);
  assert.equal(JSON.parse(/data: (.*)/.exec(events[0])[1]).worker, 1);
  const resumed = await request(server, { headers: { "last-event-id": "41" } });
  assert.deepEqual([...resumed.body.matchAll(/^id: (\d+)$/gm)].map((m) => m[1]), ["42", "43", "44"]);

  // A client that goes away mid-stream: the worker stops the stream and keeps serving.
  const slow = await serveExample(t, example("sse.js"), { env: { SSE_EVENTS: "1000", SSE_INTERVAL_MS: "10" } });
  const partial = await rawExchange(slow, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", { until: (s) => s.includes("id: 3\n") });
  assert.match(partial.text, /id: 3\n/);
  const again = await rawExchange(slow, "GET / HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 7\r\n\r\n", { until: (s) => s.includes("id: 9\n") });
  assert.match(again.text, /id: 8\n[^]*id: 9\n/);
});

test("early-hints.js: 103 with the preload links, then the page; HTTP/1.0 gets only the page", async (t) => {
  const server = await serveExample(t, example("early-hints.js"));
  const r = await request(server);
  assert.deepEqual(r.responses.map((x) => x.status), [103, 200]);
  assert.match(r.text, /^HTTP\/1\.1 103 Early Hints\r\nlink: <\/style\.css>; rel=preload; as=style, <\/app\.js>; rel=preload; as=script\r\n\r\nHTTP\/1\.1 200 OK\r\n/i);
  assert.match(r.body, /<h1>Hello, early hints<\/h1>/);
  const old = await request(server, { version: "1.0" });
  assert.deepEqual(old.responses.map((x) => x.status), [200]);
  assert.equal((await request(server, { target: "/style.css" })).headers["content-type"][0], "text/css");
});

test("retire.js: a worker over the memory limit retires after its response and is replaced", async (t) => {
  const server = await serveExample(t, example("retire.js"), { env: { RETIRE_RSS_MB: "1" } });
  const first = await request(server);
  assert.equal(first.status, 200);
  const [, pid] = /^worker 1 pid (\d+), rss \d+ MB, retiring\n$/.exec(first.body) ?? [];
  assert.ok(pid, first.body);
  // The retired worker exits once its response is out; the supervisor starts another.
  let next;
  for (const start = Date.now(); Date.now() - start < 20000;) {
    next = await request(server).catch(() => null);
    const p = next && /pid (\d+)/.exec(next.body)?.[1];
    if (p && p !== pid) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.match(next.body, /^worker 1 pid (\d+), rss \d+ MB, retiring\n$/);
  assert.notEqual(/pid (\d+)/.exec(next.body)[1], pid);
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});

test("hono/: the Hono app, installed from the npm registry, served unchanged, getConnInfo included", { skip: noTypeScript, timeout: 120_000 }, async (t) => {
  const dir = tmpdir("pronghorn-hono-");
  fs.copyFileSync(example("hono/app.ts"), path.join(dir, "app.ts"));
  const pkg = JSON.parse(fs.readFileSync(example("hono/package.json"), "utf8"));
  assert.equal(pkg.dependencies.pronghorn, "file:../..");
  pkg.dependencies.pronghorn = `file:${ROOT}`; // what ../.. is from examples/hono
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(pkg, null, 2));
  // --ignore-scripts: the linked pronghorn's `prepare` would rebuild dist/ in the working tree.
  const npm = spawnSync("npm", ["install", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: dir, encoding: "utf8", timeout: 100_000 });
  assert.equal(npm.status, 0, `npm install: ${npm.error ?? ""}${npm.stderr}`);
  const server = await serveExample(t, "app.ts", { cwd: dir });

  const root = await request(server);
  assert.equal(root.status, 200);
  assert.equal(root.body, "Hello Hono! (worker 1)");
  const who = await request(server, { target: "/whoami" });
  assert.deepEqual(JSON.parse(who.body), { address: "127.0.0.1", port: who.localPort, worker: 1 });
  assert.deepEqual(JSON.parse((await request(server, { target: "/users/42?q=x" })).body), { id: "42", q: "x" });
  const echo = await request(server, { method: "POST", target: "/echo", body: '{"a":[1,2]}', headers: { "content-type": "application/json" } });
  assert.deepEqual(JSON.parse(echo.body), { a: [1, 2] });
  assert.equal((await request(server, { target: "/nowhere" })).status, 404);
});

// ---------------------------------------------------------------------------------------------
// nginx

/** An examples/ nginx configuration with its paths moved into `dir`, so it runs unprivileged. */
function nginxConfFrom(file, dir, port, socket) {
  let conf = fs.readFileSync(file, "utf8");
  const replace = (from, to) => {
    assert.ok(conf.includes(from), `${path.basename(file)} has ${from}`);
    conf = conf.replace(from, to);
  };
  replace("server unix:/run/pronghorn/app.sock;", `server unix:${socket};`);
  replace("listen 80;", `listen 127.0.0.1:${port};`);
  replace("worker_processes auto;", "worker_processes 1;");
  const temps = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((k) => `  ${k}_temp_path ${dir}/${k};`).join("\n");
  replace("http {\n", `http {\n  access_log off;\n${temps}\n`);
  const user = process.getuid?.() === 0 ? "user root;\n" : ""; // as root, workers would drop to nobody
  return `${user}error_log ${dir}/error.log warn;\npid ${dir}/nginx.pid;\n${conf}`;
}

for (const [file, keepAlive] of [["nginx-http10.conf", false], ["nginx.conf", true]]) {
  test(`${file}: nginx proxies to pronghorn on a unix socket (${keepAlive ? "upstream keep-alive" : "HTTP/1.0, a connection per request"})`, { skip: requireTool("nginx") }, async (t) => {
    const dir = tmpdir("pronghorn-nginx-");
    const socket = path.join(dir, "app.sock");
    const server = await startServer(["--workers", "1", "-E", "production", "--socket", socket, example("echo.js")]);
    t.after(() => server.stop("SIGKILL"));
    const port = await freePort();
    const { proc: nginx, exited: nginxExit } = await startNginx(t, dir, nginxConfFrom(example(file), dir, port, socket), port);
    const viaNginx = { host: "127.0.0.1", port };

    for (let i = 0; i < 3; i++) {
      const r = await request(viaNginx, { target: `/n/${i}`, headers: { "x-i": String(i) } });
      assert.equal(r.status, 200, r.text);
      const seen = JSON.parse(r.body);
      assert.equal(seen.url, `http://example.test/n/${i}`);
      assert.equal(seen.headers["x-i"], String(i));
      assert.equal(seen.headers["x-forwarded-for"], "127.0.0.1");
      assert.equal(seen.headers["x-forwarded-proto"], "http");
      // HTTP/1.0 upstream: nginx asks for close; keep-alive upstream: no Connection header at all.
      assert.equal(seen.headers.connection, keepAlive ? undefined : "close");
    }
    const body = "x".repeat(100_000);
    const post = await request(viaNginx, { method: "POST", target: "/upload", body, headers: { "content-type": "text/plain" } });
    assert.equal(post.status, 200);
    assert.equal(post.body, body);
    const errors = fs.readFileSync(path.join(dir, "error.log"), "utf8").split("\n").filter((l) => /\[(error|crit|alert|emerg)\]/.test(l));
    assert.deepEqual(errors, []);
    nginx.kill("SIGQUIT");
    await nginxExit;
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });
}

// ---------------------------------------------------------------------------------------------
// Server::Starter

test("start_server.sh: serves, and `start_server --restart` deploys the new code", { skip: requireTool("start_server"), timeout: 120_000 }, async (t) => {
  const dir = tmpdir("pronghorn-starter-");
  const app = path.join(dir, "app.js");
  const source = (v) => `export default { fetch: (request, info) => new Response("${v} from worker " + info.worker.id) };\n`;
  fs.writeFileSync(app, source("v1"));
  const port = await freePort();
  const env = { PORT: `127.0.0.1:${port}`, WORKERS: "2" };
  if (RUNTIME === "node") {
    // The script's default, ./node_modules/.bin/pronghorn, as npm links it (run by the first
    // node on PATH: make that the node running this test).
    fs.mkdirSync(path.join(dir, "node_modules", ".bin"), { recursive: true });
    fs.symlinkSync(CLI, path.join(dir, "node_modules", ".bin", "pronghorn"));
    env.PATH = `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`;
  } else {
    const [bin, pre] = runtimeCommand(RUNTIME, CLI);
    env.PRONGHORN = [bin, ...pre].join(" ");
  }
  const server = await startServer([], { cwd: dir, env, wrap: () => ["sh", [example("start_server.sh"), "app.js"]] });
  t.after(() => server.stop("SIGKILL"));
  assert.deepEqual(server.urls, [`http://127.0.0.1:${port}/`]);
  assert.match((await request(server)).body, /^v1 from worker [12]$/);
  assert.ok(fs.existsSync(path.join(dir, "pronghorn.pid")));

  // start_server writes its status file once the generation has run for --interval (1 s).
  for (const start = Date.now(); !fs.existsSync(path.join(dir, "pronghorn.status")) && Date.now() - start < 15000;) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  fs.writeFileSync(app, source("v2"));
  // The restart command the script's comment gives: it returns once the new generation runs.
  const restart = spawnSync("start_server", ["--restart", "--pid-file=pronghorn.pid", "--status-file=pronghorn.status"], { cwd: dir, encoding: "utf8", timeout: 60_000 });
  assert.equal(restart.status, 0, restart.stderr);
  await waitForOutput(server, /old worker \d+ died, status:0/);
  assert.match((await request(server)).body, /^v2 from worker [12]$/);

  const stop = spawnSync("start_server", ["--stop", "--pid-file=pronghorn.pid"], { cwd: dir, encoding: "utf8", timeout: 60_000 });
  assert.equal(stop.status, 0, stop.stderr);
  const exit = await server.exited;
  assert.equal(exit.signal, null);
});

// ---------------------------------------------------------------------------------------------
// systemd

/** The unit's ExecStart line for this runtime (the active one for Node, the commented ones for Bun and Deno). */
function execStartFor(runtime) {
  const lines = fs.readFileSync(example("systemd/pronghorn.service"), "utf8").split("\n");
  const starts = lines.map((l) => /^#?\s*ExecStart=(.*)$/.exec(l)?.[1]).filter(Boolean).map((cmd) => cmd.split(/\s+/));
  const found = starts.find((argv) => path.basename(argv[0]) === runtime);
  assert.ok(found, `pronghorn.service has an ExecStart line for ${runtime}`);
  return found;
}

test("systemd/: the service's ExecStart serves on the socket the .socket unit passes (LISTEN_FDS, LISTEN_PID, fd 3), reloads on HUP, stops on TERM", { timeout: 120_000 }, async (t) => {
  const socketUnit = fs.readFileSync(example("systemd/pronghorn.socket"), "utf8");
  assert.match(socketUnit, /^ListenStream=127\.0\.0\.1:5000$/m);
  const service = fs.readFileSync(example("systemd/pronghorn.service"), "utf8");
  assert.match(service, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
  assert.match(service, /^KillMode=mixed$/m);

  // systemd binds the socket (here on port 0 rather than 5000) and starts the service with it as fd 3.
  const handle = net._createServerHandle("127.0.0.1", 0, 4, undefined, 0);
  t.after(() => handle.close());
  const addr = {};
  handle.getsockname(addr);
  const dir = tmpdir("pronghorn-systemd-");
  const app = path.join(dir, RUNTIME === "node" ? "app.js" : "app.ts");
  fs.copyFileSync(example(RUNTIME === "node" ? "hello.js" : "hello.ts"), app);
  const [unitBin, ...unitArgs] = execStartFor(RUNTIME);
  const argv = unitArgs.map((a) => (a === "/srv/app/node_modules/pronghorn/dist/cli.js" ? CLI : a.startsWith("/srv/app/app.") ? app : a));
  assert.ok(argv.includes(CLI) && argv.includes(app), `ExecStart=${unitBin} ${unitArgs.join(" ")}`);
  const env = Object.fromEntries([...service.matchAll(/^Environment=(\w+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
  // systemd sets LISTEN_PID to the pid it execs; `exec` in sh keeps the shell's pid.
  const wrap = () => ["sh", ["-c", 'LISTEN_PID=$$ exec "$0" "$@"', runtimeBinary(), ...argv]];
  const server = await startServer([], { env: { ...env, LISTEN_FDS: "1" }, fds: [handle.fd], wrap, cwd: dir, timeoutMs: 40_000 });
  t.after(() => server.stop("SIGKILL"));
  assert.deepEqual(server.urls, [`http://127.0.0.1:${addr.port}/`]);
  assert.match((await request(server)).body, /^Hello(, World!| \/ from worker \d \(TypeScript\)\n)$/);

  server.proc.kill("SIGHUP"); // ExecReload
  await waitForOutput(server, /reloaded: generation 2 is serving/, 40_000);
  assert.equal((await request(server)).status, 200);
  assert.deepEqual(await server.stop("SIGTERM"), { code: 0, signal: null }); // KillMode=mixed: TERM to the supervisor
});
