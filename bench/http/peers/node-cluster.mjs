// node:http under node:cluster (for cluster.mjs): a primary forks --workers N workers (default 2)
// that all listen on 127.0.0.1:PORT (default 0: one port picked by the primary, shared).
// cluster.schedulingPolicy is left as it is (SCHED_RR on Linux: the primary accepts and hands
// connections to the workers in turn). --burn MS: each request spins MS ms of CPU first (the
// same loop as cpu-app.mjs). --tag: every response carries the worker's pid in `x-worker`.
// Prints "ready PORT" once every worker listens.
import cluster from "node:cluster";
import http from "node:http";
import { parseArgs } from "node:util";
import { burn } from "./cpu-app.mjs";

const { values } = parseArgs({ options: { workers: { type: "string", default: "2" }, port: { type: "string", default: "0" }, burn: { type: "string", default: "0" }, tag: { type: "boolean", default: false } } });
const workers = Number(values.workers);
const burnMs = Number(values.burn);

if (cluster.isPrimary) {
  let stopping = false;
  let listening = 0;
  let port;
  cluster.on("listening", (_w, addr) => {
    port = addr.port;
    if (++listening === workers) console.log(`ready ${port} (schedulingPolicy ${cluster.schedulingPolicy === cluster.SCHED_RR ? "rr" : "none"})`);
  });
  cluster.on("exit", (w, code, sig) => {
    if (!stopping) {
      console.error(`node-cluster: worker ${w.process.pid} exited (${sig ?? code})`);
      process.exit(1);
    }
  });
  for (const sig of ["SIGTERM", "SIGINT"]) {
    process.on(sig, () => {
      stopping = true;
      for (const w of Object.values(cluster.workers)) w.process.kill("SIGKILL");
      process.exit(0);
    });
  }
  for (let i = 0; i < workers; i++) cluster.fork();
} else {
  const pid = String(process.pid);
  const headers = { "content-type": "text/plain;charset=UTF-8", "content-length": "13" };
  if (values.tag) headers["x-worker"] = pid;
  const server = http.createServer((req, res) => {
    if (burnMs > 0) burn(burnMs);
    res.writeHead(200, headers);
    res.end("Hello, World!");
  });
  server.listen(Number(values.port), "127.0.0.1");
}
