// pronghorn behind a real nginx (nginx-light) over a unix socket, as Gazelle is meant to run:
// nginx keeps upstream connections alive (keepalive 16); a HUP reload under load through nginx
// must not produce a single failed request (a 502 counts as one).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT, startServer, tmpdir, load, waitForOutput, requireTool, freePort, startNginx } from "./harness.js";

const skip = requireTool("nginx");
const HELLO = path.join(ROOT, "test", "fixtures", "ops-hello.mjs");

/** The recipe of examples/nginx.conf, with every path inside `dir` so it runs unprivileged too. */
function nginxConf(dir, port, socket) {
  const user = process.getuid?.() === 0 ? "user root;" : ""; // as root, workers would drop to nobody
  return `${user}
worker_processes 1;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream pronghorn {
    server unix:${socket};
    keepalive 16;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://pronghorn;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
    }
  }
}
`;
}

test("behind nginx over a unix socket: requests succeed, and a HUP reload under load gives no 502", { skip }, async (t) => {
  const dir = tmpdir("pronghorn-nginx-");
  const socket = path.join(dir, "pronghorn.sock");
  const server = await startServer(["--workers", "2", "-E", "production", "--socket", socket, HELLO]);
  t.after(() => server.stop("SIGKILL"));
  const port = await freePort();
  const { proc: nginx, exited: nginxExit } = await startNginx(t, dir, nginxConf(dir, port, socket), port);
  const viaNginx = { host: "127.0.0.1", port, output: server.output };

  const steady = await load(viaNginx, { clients: 6, durationMs: 1000 });
  assert.equal(steady.failed, 0, steady.errors.join("; ") + fs.readFileSync(path.join(dir, "error.log"), "utf8"));

  const pids = new Set();
  const generations = new Set();
  const loading = load(viaNginx, {
    clients: 6,
    durationMs: 3000,
    onBody: (b) => {
      pids.add(/pid (\d+)/.exec(b)[1]);
      generations.add(Number(/gen (\d+)/.exec(b)[1]));
    },
  });
  await new Promise((resolve) => setTimeout(resolve, 500)); // load against generation 1 first
  server.proc.kill("SIGHUP");
  await waitForOutput(server, /reloaded: generation 2 is serving/);
  const stats = await loading;
  const errors = fs.readFileSync(path.join(dir, "error.log"), "utf8");
  // A draining worker closes idle keep-alive connections; nginx may have just sent a request on
  // one. It logs "upstream prematurely closed" and retries (GET is idempotent): not a failure.
  const retried = (errors.match(/upstream prematurely closed connection/g) ?? []).length;
  const other = errors.split("\n").filter((l) => /\[(error|crit|alert|emerg)\]/.test(l) && !/upstream prematurely closed/.test(l));
  console.log(`nginx -> unix socket: steady ${steady.requests} requests, ${steady.failed} failed; HUP under load ${stats.requests} requests, ${stats.failed} failed, ${retried} retried by nginx on closed keep-alive connections, ${pids.size} worker pids`);
  assert.equal(stats.failed, 0, stats.errors.join("; ") + "\n" + errors);
  // Which workers of a generation nginx's few upstream connections land on is the kernel's
  // choice (one shared accept queue), so the guarantee is per generation, not per worker.
  assert.deepEqual([...generations].sort(), [1, 2], "both generations served through nginx");
  assert.deepEqual(other, []);

  nginx.kill("SIGQUIT");
  await nginxExit;
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
  assert.equal(fs.existsSync(socket), false);
});
