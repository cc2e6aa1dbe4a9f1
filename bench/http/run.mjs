// HTTP load benchmark: pronghorn (one worker) against node:http, @hono/node-server and srvx,
// all serving the same hello world (bench/http/app.mjs; node:http its (req, res) twin), one
// process each, keep-alive and Connection: close. Rounds alternate the servers (A/B/C/D, then
// again) so drift on this shared machine hits every server alike; the table reports medians
// and the ratio of pronghorn's median to node:http's. Each endpoint's answer is checked first.
//
//   node bench/http/run.mjs [--rounds 5] [--duration 3] [--connections 50] [--out FILE]
//
// Needs wrk (autocannon is used when wrk is missing) and a built dist/.
import { spawn, execFileSync } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../..");
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1];
};
const ROUNDS = Number(arg("rounds", 5));
const DURATION = Number(arg("duration", 3));
const CONNECTIONS = Number(arg("connections", 50));
const OUT = arg("out", null);
const BASE_PORT = 47100 + (process.pid % 500) * 4;

function hasWrk() {
  try {
    execFileSync("sh", ["-c", "command -v wrk"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const WRK = hasWrk();

const SERVERS = [
  { name: "pronghorn", cmd: [process.execPath, [path.join(ROOT, "dist/cli.js"), "--workers", "1", "-E", "production", "--host", "127.0.0.1", "--port", "PORT", path.join(HERE, "app.mjs")]] },
  { name: "node:http", cmd: [process.execPath, [path.join(HERE, "node-http.mjs"), "PORT"]] },
  { name: "@hono/node-server", cmd: [process.execPath, [path.join(HERE, "hono-node.mjs"), "PORT"]] },
  { name: "srvx", cmd: [process.execPath, [path.join(HERE, "srvx.mjs"), "PORT"]] },
];

async function start(server, port) {
  const [cmd, args] = server.cmd;
  const proc = spawn(cmd, args.map((a) => (a === "PORT" ? String(port) : a)), { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  await new Promise((resolve, reject) => {
    const onText = (c) => {
      out += c;
      if (/ready|accepting connections/.test(out)) resolve();
    };
    proc.stdout.on("data", onText);
    proc.stderr.on("data", onText);
    proc.once("exit", (code) => reject(new Error(`${server.name} exited (${code}): ${out}`)));
  });
  return proc;
}

async function check(name, port) {
  let res;
  for (let tries = 0; ; tries++) {
    try {
      res = await fetch(`http://127.0.0.1:${port}/`);
      break;
    } catch (err) {
      if (tries === 30) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const body = await res.text();
  if (res.status !== 200 || body !== "Hello, World!") throw new Error(`${name} answered ${res.status} ${JSON.stringify(body)}`);
}

function load(port, close) {
  if (WRK) {
    const args = ["-t1", `-c${CONNECTIONS}`, `-d${DURATION}s`, ...(close ? ["-H", "Connection: close"] : []), `http://127.0.0.1:${port}/`];
    const text = execFileSync("wrk", args, { encoding: "utf8" });
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)[1]);
    const errors = /Non-2xx|Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
    return { rps, errors: errors ? errors[0] : "" };
  }
  const bin = path.join(ROOT, "node_modules/.bin/autocannon");
  const args = ["-j", "-c", String(CONNECTIONS), "-d", String(DURATION), ...(close ? ["-H", "connection=close"] : []), `http://127.0.0.1:${port}/`];
  const r = JSON.parse(execFileSync(bin, args, { encoding: "utf8" }));
  return { rps: r.requests.average, errors: r.errors ? `errors ${r.errors}` : "" };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const procs = [];
const results = {};
try {
  for (const [i, s] of SERVERS.entries()) {
    s.port = BASE_PORT + i;
    procs.push(await start(s, s.port));
    await check(s.name, s.port).catch((e) => {
      throw new Error(`${s.name} on port ${s.port} failed its check: ${e.cause?.message ?? e.message}`);
    });
  }
  for (const mode of ["keep-alive", "close"]) {
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order each round so no server always runs first (or right after another).
      const order = SERVERS.map((_, i) => SERVERS[(i + round) % SERVERS.length]);
      for (const s of order) {
        const r = load(s.port, mode === "close");
        ((results[mode] ??= {})[s.name] ??= []).push(r.rps);
        if (r.errors) console.error(`${mode} ${s.name}: ${r.errors}`);
        console.error(`${mode} round ${round + 1} ${s.name}: ${Math.round(r.rps)} req/s`);
      }
    }
  }
} finally {
  for (const p of procs) {
    // a server that already exited (e.g. failed to start) emits no further "exit": waiting for
    // one would hang with nothing left to run and hide the start error
    if (p.exitCode !== null || p.signalCode !== null) continue;
    p.kill("SIGTERM");
    await once(p, "exit").catch(() => {});
  }
}

const cpu = os.cpus()[0]?.model ?? "unknown CPU";
const wrkVersion = WRK ? execFileSync("sh", ["-c", "wrk -v 2>&1 | head -1"], { encoding: "utf8" }).trim() : "autocannon";
let table = `Machine: ${cpu}, ${os.cpus().length} cores, ${os.type()} ${os.release()}; Node ${process.version}; ${wrkVersion}\n`;
table += `Load: ${WRK ? `wrk -t1 -c${CONNECTIONS} -d${DURATION}s` : `autocannon -c ${CONNECTIONS} -d ${DURATION}`} on 127.0.0.1, ${ROUNDS} rounds, servers rotated each round\n\n`;
table += "| server | keep-alive req/s (median) | × node:http | Connection: close req/s (median) | × node:http |\n|---|---:|---:|---:|---:|\n";
for (const s of SERVERS) {
  const ka = median(results["keep-alive"][s.name]);
  const cl = median(results.close[s.name]);
  const kaBase = median(results["keep-alive"]["node:http"]);
  const clBase = median(results.close["node:http"]);
  table += `| ${s.name} | ${Math.round(ka)} | ${(ka / kaBase).toFixed(2)} | ${Math.round(cl)} | ${(cl / clBase).toFixed(2)} |\n`;
}
console.log(table);
if (OUT) fs.writeFileSync(OUT, table);
