#!/usr/bin/env node
// How pronghorn and its peers answer hostile and broken requests: the table in the README's
// "Security and limits" section comes from this script. It starts pronghorn (one worker, its
// defaults), a plain node:http server, Bun.serve and Deno.serve (each with its defaults), all
// serving the same app (it reads the whole body and answers `ok METHOD PATH BYTES`), sends each
// case on a fresh loopback connection and prints what came back: the status line, or `none`, and
// whether the server closed the connection within 3 s. With --slow it also measures how long each
// server keeps a silent connection, a head that trickles in, and a body that stalls (up to
// --slow-cap seconds; their defaults take minutes).
//
//   node scripts/probe-peers.mjs [--node PATH] [--slow] [--slow-cap 75]
//
// Needs a built dist/ and node_modules/.bin/bun and deno. Loopback only; every server is killed at
// the end.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BIN = path.join(ROOT, "node_modules", ".bin");
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? dflt : args[i + 1];
};
const NODE = opt("node", fs.existsSync(path.join(ROOT, ".runtimes/node-26/bin/node")) ? path.join(ROOT, ".runtimes/node-26/bin/node") : process.execPath);
const SLOW = args.includes("--slow");
const SLOW_CAP_S = Number(opt("slow-cap", 75));

const APP = `export default {
  async fetch(req) {
    let n = 0;
    try { if (req.body) for await (const c of req.body) n += c.length; } catch { n = -1; }
    return new Response("ok " + req.method + " " + new URL(req.url).pathname.slice(0, 24) + " " + n);
  },
};
`;
const NODE_HTTP = `import http from "node:http";
const s = http.createServer(async (req, res) => {
  let n = 0;
  try { for await (const c of req) n += c.length; } catch { n = -1; }
  res.end("ok " + req.method + " " + req.url.slice(0, 24) + " " + n);
});
s.listen(Number(process.argv[2]), "127.0.0.1", () => console.log("ready"));
`;
const BUN = `import app from "./app.mjs";
Bun.serve({ fetch: app.fetch, port: Number(process.argv[2]), hostname: "127.0.0.1" });
console.log("ready");
`;
const DENO = `import app from "./app.mjs";
Deno.serve({ port: Number(Deno.args[0]), hostname: "127.0.0.1", onListen() { console.log("ready"); } }, app.fetch);
`;

const H = "Host: x\r\n";
const CASES = [
  ["20 KiB header field", `GET / HTTP/1.1\r\n${H}X-A: ${"a".repeat(20000)}\r\n\r\n`],
  ["100 KiB header field", `GET / HTTP/1.1\r\n${H}X-A: ${"a".repeat(100000)}\r\n\r\n`],
  ["20 KiB request-target", `GET /${"a".repeat(20000)} HTTP/1.1\r\n${H}\r\n`],
  ["junk after a chunk size", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5 junk\r\nhello\r\n0\r\n\r\n`],
  ["20 KiB chunk extension", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a=${"b".repeat(20000)}\r\nhello\r\n0\r\n\r\n`],
  ["request line in a trailer", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nGET /x HTTP/1.1\r\n\r\n`],
  ["Transfer-Encoding + Content-Length", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n`],
  ["`chunked, identity`", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n`],
  ["`chunked` with a Kelvin sign", Buffer.concat([Buffer.from(`POST / HTTP/1.1\r\n${H}Transfer-Encoding: chun`), Buffer.from("\u212a"), Buffer.from("ed\r\n\r\n5\r\nhello\r\n0\r\n\r\n")])],
  ["two different Content-Lengths", `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`],
  ["obs-fold", `GET / HTTP/1.1\r\n${H}X-A: a\r\n b\r\n\r\n`],
  ["bare CR in a value", `GET / HTTP/1.1\r\n${H}X-A: a\rb\r\n\r\n`],
  ["bare LF line ends", `GET / HTTP/1.1\nHost: x\n\n`],
  ["HTTP/1.1 without Host", `GET / HTTP/1.1\r\n\r\n`],
  ["two Host fields", `GET / HTTP/1.1\r\n${H}${H}\r\n`],
  ["`HTTP/1.10`", `GET / HTTP/1.10\r\n${H}\r\n`],
  ["`HTTP/2.0` request line", `GET / HTTP/2.0\r\n${H}\r\n`],
  ["raw UTF-8 `/é` in the target", Buffer.concat([Buffer.from("GET /"), Buffer.from("é"), Buffer.from(` HTTP/1.1\r\n${H}\r\n`)])],
];
const SLOW_CASES = [
  ["silent connection", (s) => {}],
  ["head trickling in (a field every 2 s)", (s) => { s.write(`GET / HTTP/1.1\r\n${H}`); return setInterval(() => s.write("X-A: b\r\n"), 2000); }],
  ["body stalled after 3 bytes", (s) => { s.write(`POST / HTTP/1.1\r\n${H}Content-Length: 100000\r\n\r\nabc`); }],
];

function exchange(port, send, timeoutMs) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const s = net.connect(port, "127.0.0.1");
    let got = Buffer.alloc(0);
    let timer = null;
    let done = false;
    const finish = (how) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      s.destroy();
      const text = got.toString("latin1");
      const statuses = [...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => m[1]);
      const status = statuses.length === 0 ? "none" : statuses.join(" then ");
      const body = text.includes("\r\n\r\nok ") ? text.slice(text.indexOf("\r\n\r\nok ") + 4).split(/\r\n|HTTP\//)[0] : "";
      resolve({ how, status, body, seconds: (Date.now() - t0) / 1000 });
    };
    s.on("data", (c) => (got = Buffer.concat([got, c])));
    s.on("close", () => finish("closed"));
    s.on("error", (e) => finish(e.code === "ECONNRESET" ? "reset" : e.code));
    setTimeout(() => finish("open"), timeoutMs);
    s.on("connect", () => {
      if (typeof send === "function") timer = send(s) ?? null;
      else s.write(send);
    });
  });
}

async function start(name, cmd, argv, cwd) {
  const child = spawn(cmd, argv, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (c) => (out += c));
  child.stderr.on("data", (c) => (out += c));
  const deadline = Date.now() + 20000;
  while (!/ready|accepting connections/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${name} did not start: ${out.slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "probe-peers-"));
fs.writeFileSync(path.join(dir, "app.mjs"), APP);
fs.writeFileSync(path.join(dir, "node-http.mjs"), NODE_HTTP);
fs.writeFileSync(path.join(dir, "bun.mjs"), BUN);
fs.writeFileSync(path.join(dir, "deno.mjs"), DENO);
const base = 20000 + Math.floor(Math.random() * 20000);
const SERVERS = [
  ["pronghorn", NODE, [path.join(ROOT, "dist/cli.js"), "app.mjs", "-o", "127.0.0.1", "-p", String(base), "--workers", "1", "-E", "production"], base],
  ["node:http", NODE, ["node-http.mjs", String(base + 1)], base + 1],
  ["Bun.serve", path.join(BIN, "bun"), ["bun.mjs", String(base + 2)], base + 2],
  ["Deno.serve", path.join(BIN, "deno"), ["run", "-A", "deno.mjs", String(base + 3)], base + 3],
];
const children = [];
const cleanup = () => {
  for (const c of children) c.kill("SIGKILL");
  fs.rmSync(dir, { recursive: true, force: true });
};
process.on("SIGINT", () => {
  cleanup();
  process.exit(130);
});
try {
  for (const [name, cmd, argv] of SERVERS) children.push(await start(name, cmd, argv, dir));
  const ver = (cmd, a) => execFileSync(cmd, a).toString().trim().split("\n")[0];
  console.log(`pronghorn and node:http on Node ${ver(NODE, ["--version"])}, ${ver(path.join(BIN, "bun"), ["--version"]).replace(/^/, "Bun ")}, ${ver(path.join(BIN, "deno"), ["--version"])}; every server with its defaults\n`);
  const cell = (r) => (r.status === "none" ? (r.how === "open" ? "no answer, open" : `no answer, ${r.how}`) : `${r.status}${r.body ? ` (\`${r.body}\`)` : ""}${r.how === "open" ? ", open" : ""}`);
  console.log(`| request | ${SERVERS.map((s) => s[0]).join(" | ")} |`);
  console.log(`|---|${SERVERS.map(() => "---").join("|")}|`);
  for (const [name, bytes] of CASES) {
    const rs = await Promise.all(SERVERS.map((s) => exchange(s[3], bytes, 3000)));
    console.log(`| ${name} | ${rs.map(cell).join(" | ")} |`);
  }
  if (SLOW) {
    console.log(`\n| slow client (closed after, capped at ${SLOW_CAP_S} s) | ${SERVERS.map((s) => s[0]).join(" | ")} |`);
    console.log(`|---|${SERVERS.map(() => "---").join("|")}|`);
    const rows = await Promise.all(SLOW_CASES.map(async ([name, send]) => {
      const rs = await Promise.all(SERVERS.map((s) => exchange(s[3], send, SLOW_CAP_S * 1000)));
      return `| ${name} | ${rs.map((r) => (r.how === "open" ? `open at ${SLOW_CAP_S} s` : `${r.seconds.toFixed(0)} s${r.status !== "none" ? ` (${r.status})` : ""}`)).join(" | ")} |`;
    }));
    console.log(rows.join("\n"));
  }
} finally {
  cleanup();
}
