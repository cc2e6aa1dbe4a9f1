// The CLI contract (README.md "Options"): every bad option or value is one line naming
// it and exit status 2 with nothing started; --help lists every option with its default; one
// startup line per listener with the real port; inherited listeners from SERVER_STARTER_PORT
// (every entry) and systemd's LISTEN_FDS (only when LISTEN_PID is set and is the server's; the
// workers never see either variable).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync, spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { ROOT, RUNTIME, RUNTIME_LABEL, runtimeCommand, runtimeEnv, startServer, tmpdir, get } from "./harness.js";

const HELLO = path.join(ROOT, "test", "fixtures", "ops-hello.mjs");

/** The CLI on the runtime under test, to completion. */
function run(args, env = {}, cwd = ROOT) {
  const [cmd, pre] = runtimeCommand();
  return spawnSync(cmd, [...pre, ...args], { cwd, env: runtimeEnv(RUNTIME, env), encoding: "utf8", timeout: 15000 });
}


const BAD = [
  [["--workers", "four", HELLO], /^pronghorn: --workers: expected a whole number >= 1, got "four"$/],
  [["--workers", "0", HELLO], /^pronghorn: --workers: expected a whole number >= 1, got "0"$/],
  [["--workers", "1025", HELLO], /^pronghorn: --workers: expected at most 1024, got "1025"$/],
  [["--workers=40000", HELLO], /^pronghorn: --workers: expected at most 1024, got "40000"$/],
  [["--startup-timeout", "soon", HELLO], /^pronghorn: --startup-timeout: expected a number of seconds >= 0, got "soon"$/],
  [["--port", "70000", HELLO], /^pronghorn: --port: expected a port number 0-65535, got "70000"$/],
  [["-p", "http", HELLO], /^pronghorn: -p: expected a port number 0-65535, got "http"$/],
  [["--timeout", "-1", HELLO], /^pronghorn: --timeout: expected a number of seconds > 0, got "-1"$/],
  [["--keepalive-timeout=soon", HELLO], /^pronghorn: --keepalive-timeout: expected a number of seconds >= 0, got "soon"$/],
  [["--max-body-size", "1.5", HELLO], /^pronghorn: --max-body-size: expected a whole number >= 0, got "1.5"$/],
  [["--listen", "[::1]5000", HELLO], /^pronghorn: --listen "\[::1\]5000": expected HOST:PORT, \[V6\]:PORT, :PORT, PORT or a socket path$/],
  [["--listen", "localhost:http", HELLO], /^pronghorn: --listen "localhost:http": expected/],
  [["--frobnicate", HELLO], /^pronghorn: unknown option "--frobnicate" \(see --help\)$/],
  [["-x", HELLO], /^pronghorn: unknown option "-x" \(see --help\)$/],
  [[HELLO, "--port"], /^pronghorn: --port: expected PORT after it$/],
  [["--min-reqs-per-child", "10", HELLO], /^pronghorn: --min-reqs-per-child: needs --max-reqs-per-child N/],
  [["--min-reqs-per-child", "10", "--max-reqs-per-child", "5", HELLO], /^pronghorn: --min-reqs-per-child: expected at most --max-reqs-per-child \(5\), got "10"$/],
  [["--child-exit", "/nonexistent/exit.js", HELLO], /^pronghorn: --child-exit "\/nonexistent\/exit.js": no such file$/],
  [["/nonexistent/app.js"], /^pronghorn: APP "\/nonexistent\/app.js": no such file$/],
  [["--host", "127.0.0.1", "--listen", ":0", HELLO], /^pronghorn: --host: cannot be combined with --listen or --socket/],
  [[HELLO, "extra.js"], /^pronghorn: unexpected argument "extra.js" \(one APP only\)$/],
  // The parser's wasm memory is fixed: a head limit near it could not be honoured.
  [["--max-header-size", "40000000", HELLO], /^pronghorn: --max-header-size: expected at most 1048576, got "40000000"$/],
  [["--max-header-size", "1048577", HELLO], /^pronghorn: --max-header-size: expected at most 1048576, got "1048577"$/],
  [["--status-path", "server-status", HELLO], /^pronghorn: --status-path: expected a URL path such as \/server-status, got "server-status"$/],
  [["--health-path", "/a/../b", HELLO], /^pronghorn: --health-path: expected a URL path such as \/server-status, got "\/a\/..\/b"$/],
  [["--status-path", "/s", "--health-path", "/s", HELLO], /^pronghorn: --health-path: "\/s" is the --status-path too$/],
  [["--status-allow", "10.0.0.0/33", HELLO], /^pronghorn: --status-allow: expected an IPv4 or IPv6 CIDR such as 10.0.0.0\/8 or fd00::\/8 \(or unix\), got "10.0.0.0\/33"$/],
  [["--status-allow", "::1", "--status-allow", "fe80::zz/10", HELLO], /^pronghorn: --status-allow: expected an IPv4 or IPv6 CIDR .*got "fe80::zz\/10"$/],
  [["--access-log-format", "xml", HELLO], /^pronghorn: --access-log-format: expected combined or json, got "xml"$/],
];

for (const [args, expected] of BAD) {
  test(`bad option ${JSON.stringify(args.filter((a) => a !== HELLO))}: exit 2, one line naming it, nothing started`, () => {
    const r = run(args);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, "");
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], expected);
  });
}

test("an empty SERVER_STARTER_PORT (start_server without --port/--path) is a usage error", () => {
  const r = run([HELLO], { SERVER_STARTER_PORT: "" });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^pronghorn: SERVER_STARTER_PORT is empty: run start_server with --port or --path\n$/);
});

test("no APP and no ./app.{ts,js,mjs}: exit 2 saying so", () => {
  const r = run([], {}, tmpdir());
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^pronghorn: no APP given and none of \.\/app\.ts, \.\/app\.js, \.\/app\.mjs exists/);
});

test("--help lists every option with its default, on stdout, exit 0", () => {
  const r = run(["--help"]);
  assert.equal(r.status, 0);
  for (const option of ["--app", "--host", "--port", "--listen", "--socket", "--backlog", "--workers", "--timeout", "--max-reqs-per-child", "--min-reqs-per-child", "--spawn-interval", "--child-exit", "--keepalive-timeout", "--max-keepalive-reqs", "--header-timeout", "--max-header-size", "--max-body-size", "--graceful-timeout", "--startup-timeout", "--status-path", "--status-allow", "--health-path", "--env", "--access-log", "--access-log-format", "--version", "--help"]) {
    assert.ok(r.stdout.includes(option), `--help mentions ${option}`);
  }
  for (const def of ["(default: 5000)", "(default: 0.0.0.0)", "(default: 1024)", "(default: CPU count)", "at most 1024", "(default: 300)", "(default: 5)", "(default: 60)", "(default: 16384)", "(default: development)", "(default: combined)", "(default: 127.0.0.0/8, ::1/128, unix)", "at most 1048576", "USR2"]) {
    assert.ok(r.stdout.includes(def), `--help shows ${def}`);
  }
});

test("--version prints the package version", () => {
  const r = run(["--version"]);
  assert.equal(r.status, 0);
  const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
  assert.match(r.stdout, new RegExp(`^pronghorn ${version.replace(/\./g, "\\.")} \\(${RUNTIME_LABEL}\\)$`, "m"));
});

test("a port in use is one line and exit 1", async () => {
  const blocker = net.createServer().listen(0, "127.0.0.1");
  await once(blocker, "listening");
  const r = run(["--workers", "1", "--listen", `127.0.0.1:${blocker.address().port}`, HELLO]);
  blocker.close();
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`^pronghorn: cannot listen on 127\\.0\\.0\\.1:${blocker.address()?.port ?? "\\d+"}.*EADDRINUSE.*\\n$`));
});

function hasIPv6() {
  return Object.values(os.networkInterfaces()).flat().some((i) => i.family === "IPv6" && i.address === "::1");
}

test("one startup line per listener (v4, v6, unix), with the real port for port 0, each serving", async (t) => {
  const dir = tmpdir();
  const sock = path.join(dir, "app.sock");
  const v6 = hasIPv6();
  const args = ["--workers", "2", "-E", "production", "--listen", "127.0.0.1:0", "--listen", `unix:${sock}`];
  if (v6) args.push("--listen", "[::1]:0");
  const server = await startServer([...args, HELLO], { listeners: v6 ? 3 : 2 });
  t.after(() => server.stop("SIGKILL"));
  const lines = server.output().split("\n").filter((l) => l.includes("accepting connections"));
  const tail = `\\(${RUNTIME_LABEL}, 2 workers\\)$`;
  assert.match(lines[0], new RegExp(`^pronghorn: accepting connections at http://127\\.0\\.0\\.1:[1-9]\\d*/ ${tail}`));
  assert.match(lines[1], new RegExp(`^pronghorn: accepting connections at unix:${sock.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} ${tail}`));
  if (v6) assert.match(lines[2], new RegExp(`^pronghorn: accepting connections at http://\\[::1\\]:[1-9]\\d*/ ${tail}`));
  else t.diagnostic("no ::1 on this machine: the IPv6 listener is not tested");
  for (const url of server.urls) {
    const where = url.startsWith("unix:") ? { socketPath: url.slice(5) } : { socketPath: undefined, host: new URL(url).hostname.replace(/^\[|\]$/g, ""), port: Number(new URL(url).port) };
    const r = await get({ ...server, ...where }, "/");
    assert.equal(r.status, 200);
    assert.match(r.body, /hello from worker/);
  }
  assert.deepEqual(await server.stop("SIGTERM"), { code: 0, signal: null });
  assert.equal(fs.existsSync(sock), false, "the unix socket we created is removed on exit");
});

test("a unix socket left over by a dead server is replaced; a live one is an error", async (t) => {
  const dir = tmpdir();
  const sock = path.join(dir, "stale.sock");
  // A process that dies by SIGKILL leaves its socket file behind.
  const holder = spawn(process.execPath, ["-e", `require("net").createServer().listen(${JSON.stringify(sock)}, () => console.log("up"))`], { stdio: ["ignore", "pipe", "inherit"] });
  await once(holder.stdout, "data");
  const live = run(["--workers", "1", "--socket", sock, HELLO]);
  assert.equal(live.status, 1);
  assert.match(live.stderr, /^pronghorn: cannot listen on unix:.*stale\.sock: another server is accepting connections there\n$/);
  holder.kill("SIGKILL");
  await once(holder, "exit");
  assert.ok(fs.existsSync(sock));
  const server = await startServer(["--workers", "1", "-E", "production", "--socket", sock, HELLO]);
  t.after(() => server.stop("SIGKILL"));
  assert.match((await get(server, "/")).body, /hello from worker 1/);
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
  assert.equal(fs.existsSync(sock), false);
});

/** Bound, not listening sockets (as Server::Starter and systemd would pass), and their fds. */
function boundSockets(sockPath) {
  const create = net._createServerHandle;
  const tcp = create("127.0.0.1", 0, 4, undefined, 0);
  const out = {};
  tcp.getsockname(out);
  const unix = create(sockPath, -1, -1, undefined, 0);
  return { tcp, unix, port: out.port, close: () => { tcp.close(); unix.close(); } };
}

test("SERVER_STARTER_PORT: every entry is served, not only the first", async (t) => {
  const sockPath = path.join(tmpdir(), "starter.sock");
  const s = boundSockets(sockPath);
  t.after(() => s.close());
  const env = { SERVER_STARTER_PORT: `127.0.0.1:${s.port}=3;${sockPath}=4` };
  const server = await startServer(["--workers", "2", "-E", "production", "--port", "1", HELLO], { env, fds: [s.tcp.fd, s.unix.fd], listeners: 2 });
  t.after(() => server.stop("SIGKILL"));
  assert.deepEqual(server.urls, [`http://127.0.0.1:${s.port}/`, `unix:${sockPath}`]);
  assert.match((await get({ ...server, socketPath: undefined, host: "127.0.0.1", port: s.port }, "/")).body, /hello from worker/);
  assert.match((await get({ ...server, socketPath: sockPath }, "/")).body, /hello from worker/);
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
  assert.ok(fs.existsSync(sockPath), "an inherited unix socket is Server::Starter's to remove");
});

test("LISTEN_FDS with our LISTEN_PID is used; with another process's pid it is ignored", async (t) => {
  const s = boundSockets(path.join(tmpdir(), "systemd.sock"));
  t.after(() => s.close());
  // systemd sets LISTEN_PID to the pid it execs; `exec` in sh keeps the shell's pid.
  const wrap = (cmd, args) => ["sh", ["-c", 'LISTEN_PID=$$ exec "$0" "$@"', cmd, ...args]];
  const server = await startServer(["--workers", "1", "-E", "production", HELLO], { env: { LISTEN_FDS: "1" }, fds: [s.tcp.fd], wrap });
  t.after(() => server.stop("SIGKILL"));
  assert.deepEqual(server.urls, [`http://127.0.0.1:${s.port}/`]);
  assert.match((await get(server, "/")).body, /hello from worker 1/);
  assert.deepEqual(await server.stop(), { code: 0, signal: null });

  const other = await startServer(["--workers", "1", "-E", "production", "--listen", "127.0.0.1:0", HELLO], { env: { LISTEN_FDS: "1", LISTEN_PID: "1" }, fds: [s.tcp.fd] });
  t.after(() => other.stop("SIGKILL"));
  assert.notEqual(other.port, s.port);
  assert.deepEqual(await other.stop(), { code: 0, signal: null });
});

test("--workers 1024, the upper bound itself, is accepted", async () => {
  const { parseConfig } = await import("../dist/config.js");
  assert.equal(parseConfig(["--workers", "1024", HELLO], {}).config.workers, 1024);
});

test("LISTEN_FDS without LISTEN_PID is not ours (sd_listen_fds(3)): ignored, and the workers see neither variable", async (t) => {
  const s = boundSockets(path.join(tmpdir(), "systemd.sock"));
  t.after(() => s.close());
  const app = path.join(tmpdir(), "env.mjs");
  fs.writeFileSync(app, `export default { fetch: () => new Response(JSON.stringify(["LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"].map((k) => process.env[k] ?? null))) };\n`);
  const server = await startServer(["--workers", "1", "-E", "production", "--listen", "127.0.0.1:0", app], { env: { LISTEN_FDS: "1", LISTEN_FDNAMES: "web" }, fds: [s.tcp.fd] });
  t.after(() => server.stop("SIGKILL"));
  assert.notEqual(server.port, s.port, "the inherited fd is not used");
  assert.match((await get(server, "/")).body, /\[null,null,null\]$/);
  assert.deepEqual(await server.stop(), { code: 0, signal: null });

  // With our LISTEN_PID the fd is used, and the workers still see none of the three.
  const wrap = (cmd, args) => ["sh", ["-c", 'LISTEN_PID=$$ exec "$0" "$@"', cmd, ...args]];
  const ours = await startServer(["--workers", "1", "-E", "production", app], { env: { LISTEN_FDS: "1", LISTEN_FDNAMES: "web" }, fds: [s.tcp.fd], wrap });
  t.after(() => ours.stop("SIGKILL"));
  assert.deepEqual(ours.urls, [`http://127.0.0.1:${s.port}/`]);
  assert.match((await get(ours, "/")).body, /\[null,null,null\]$/);
  assert.deepEqual(await ours.stop(), { code: 0, signal: null });
});

test("a --max-header-size at the cap is accepted and enforced: a 2 MiB head gets 431, the worker serves on", async (t) => {
  const server = await startServer(["--workers", "1", "--port", "0", "-E", "production", "--max-header-size", "1048576", HELLO]);
  t.after(() => server.stop("SIGKILL"));
  const big = await get(server, "/", { headers: `X-Big: ${"a".repeat(2 * 1024 * 1024)}\r\n`, timeoutMs: 20000 });
  assert.equal(big.status, 431);
  const near = await get(server, "/", { headers: `X-Big: ${"a".repeat(1000 * 1000)}\r\n`, timeoutMs: 20000 });
  assert.equal(near.status, 200);
  assert.doesNotMatch(server.output(), /RangeError|uncaught/);
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});

test("--backlog N reaches listen(2) (ss shows it as the listening socket's Send-Q); Deno's listen keeps 511", async (t) => {
  const server = await startServer(["--workers", "1", "--listen", "127.0.0.1:0", "--backlog", "2000", "-E", "production", HELLO]);
  t.after(() => server.stop("SIGKILL"));
  assert.equal((await get(server, "/")).status, 200); // the worker listens
  const ss = spawnSync("ss", ["-ltnH", `sport = :${server.port}`], { encoding: "utf8" });
  assert.equal(ss.status, 0, ss.stderr);
  const sendQ = ss.stdout.trim().split("\n").map((l) => Number(l.trim().split(/\s+/)[2]));
  console.log(`--backlog 2000 on ${RUNTIME}: ss reports ${sendQ.join(", ")}`);
  // One socket, shared by the supervisor and the worker; the kernel caps it at net.core.somaxconn.
  const somaxconn = Number(fs.readFileSync("/proc/sys/net/core/somaxconn", "utf8"));
  assert.deepEqual(sendQ, [RUNTIME === "deno" ? 511 : Math.min(2000, somaxconn)]);
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
});
