// How should a pronghorn worker on Deno read its sockets? Three candidates, each serving the
// same fixed hello-world response from ONE process, measured with wrk (keep-alive and
// Connection: close), rounds alternating the candidates (A/B/C, A/B/C, ...) so drift on this
// shared machine hits every candidate alike; the table reports medians.
//
//   onread  node:net, the server handle's onconnection hook replaced: the hook accepts the
//           client handle itself (Deno's shim hands it none) and wraps it in
//           net.Socket({ handle, onread: { buffer, callback } }), so bytes land straight in a
//           view on WebAssembly.Memory (what src/runtime/node-net.ts does on Node).
//   data    node:net, plain 'connection' + 'data' events: a fresh Buffer per read, copied
//           into wasm memory (the fallback path).
//   deno    Deno.listen + conn.read(view on wasm memory) + conn.write (Deno's own API; it
//           cannot adopt an inherited or handed fd, so pronghorn could use it only with
//           SO_REUSEPORT listeners; measured to know what that would buy).
//
// Every candidate finds the end of the head by scanning the bytes in wasm memory, answers
// each request with the same bytes (plus `Connection: close` in close mode), and in close mode
// half-closes after the response and closes on the client's FIN (as pronghorn does).
//
//   pronghorn-onread / pronghorn-data
//           pronghorn itself on Deno (dist/cli.js, one worker, bench/http/app.mjs), with its
//           zero-copy path and with PRONGHORN_NO_ONREAD=1; close mode is --keepalive-timeout 0.
//
//   node bench/deno-sockets.mjs [--rounds 5] [--duration 4] [--connections 50] [--out FILE]
//                               [--modes onread,data,deno,pronghorn-onread,pronghorn-data]
//   deno run -A bench/deno-sockets.mjs serve MODE PORT keep|close    (one server, by hand; PORT 0 = any)
import { spawn, execFileSync } from "node:child_process";
import net from "node:net";
import path from "node:path";
import fs from "node:fs";
import { fileURLToPath } from "node:url";

const KEEP_RESPONSE = "HTTP/1.1 200 OK\r\nContent-Type: text/plain;charset=utf-8\r\nContent-Length: 13\r\n\r\nHello, World!";
const CLOSE_RESPONSE = "HTTP/1.1 200 OK\r\nContent-Type: text/plain;charset=utf-8\r\nContent-Length: 13\r\nConnection: close\r\n\r\nHello, World!";
const KEEP = process.argv[2] === "serve" && process.argv[5] === "keep";
const RESPONSE = KEEP ? KEEP_RESPONSE : CLOSE_RESPONSE;
const RESPONSE_BYTES = new TextEncoder().encode(RESPONSE);

// ------------------------------------------------------------------------------------------
// The servers
// ------------------------------------------------------------------------------------------

const memory = new WebAssembly.Memory({ initial: 16, maximum: 16 });
const wasm = new Uint8Array(memory.buffer);
const READ_OFF = 65536;
const READ_LEN = 65536;
const readView = wasm.subarray(READ_OFF, READ_OFF + READ_LEN);

/** Count complete heads in wasm[off, off+len) plus `carry` bytes of a previous partial match. */
function heads(off, len, state) {
  let n = 0;
  let m = state.m;
  for (let i = off, end = off + len; i < end; i++) {
    const b = wasm[i];
    if (b === 13) m = m === 0 || m === 2 ? m + 1 : 1;
    else if (b === 10 && (m === 1 || m === 3)) {
      if (++m === 4) {
        n++;
        m = 0;
      }
    } else m = 0;
  }
  state.m = m;
  return n;
}

function serveNet(mode, port, keep) {
  const srv = net.createServer({ allowHalfOpen: true });
  const onSocket = (sock, bytes) => {
    const st = { m: 0 };
    const got = (off, len) => {
      const n = heads(off, len, st);
      for (let i = 0; i < n; i++) {
        if (keep) sock.write(RESPONSE);
        else {
          sock.end(RESPONSE);
          return;
        }
      }
    };
    if (bytes) bytes.got = got;
    else
      sock.on("data", (chunk) => {
        wasm.set(chunk, READ_OFF); // the copy the fallback path pays
        got(READ_OFF, chunk.length);
      });
    sock.on("end", () => sock.destroy());
    sock.on("error", () => {});
  };
  srv.listen({ port, host: "127.0.0.1", backlog: 1024 }, () => {
    if (mode === "onread") {
      const handle = srv._handle;
      handle.onconnection = (err, client) => {
        if (err) return;
        if (client === undefined) {
          client = new handle.constructor(0);
          if (handle.accept(client) !== 0) return;
        }
        const slot = { got: null };
        const sock = new net.Socket({
          handle: client, readable: true, writable: true, allowHalfOpen: true,
          onread: { buffer: readView, callback: (nread) => slot.got(READ_OFF, nread) },
        });
        onSocket(sock, slot);
      };
    } else srv.on("connection", (sock) => onSocket(sock, null));
    console.log(`ready ${srv.address().port}`);
  });
}

async function serveDeno(port, keep) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  console.log(`ready ${listener.addr.port}`);
  for await (const conn of listener) {
    (async () => {
      const st = { m: 0 };
      try {
        for (;;) {
          const n = await conn.read(readView);
          if (n === null) break;
          const k = heads(READ_OFF, n, st);
          for (let i = 0; i < k; i++) {
            await conn.write(RESPONSE_BYTES);
            if (!keep) {
              await conn.closeWrite();
              while ((await conn.read(readView)) !== null);
              conn.close();
              return;
            }
          }
        }
        conn.close();
      } catch {
        try {
          conn.close();
        } catch {}
      }
    })();
  }
}

// ------------------------------------------------------------------------------------------
// The driver (runs under node)
// ------------------------------------------------------------------------------------------

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DENO = path.resolve(HERE, "../node_modules/.bin/deno");

async function drive() {
  const arg = (name, dflt) => {
    const i = process.argv.indexOf(`--${name}`);
    return i < 0 ? dflt : process.argv[i + 1];
  };
  const ROUNDS = Number(arg("rounds", 5));
  const DURATION = Number(arg("duration", 4));
  const CONNECTIONS = Number(arg("connections", 50));
  const OUT = arg("out", null);
  const MODES = (arg("modes", "onread,data,deno")).split(",");
  const results = {};
  for (const keep of ["keep", "close"]) {
    for (let r = 0; r < ROUNDS; r++) {
      for (const mode of MODES) {
        // Port 0: the server reports the port the kernel chose (no collisions on a shared box).
        const pronghorn = mode.startsWith("pronghorn-");
        const child = pronghorn
          ? spawn(DENO, ["run", "-A", path.resolve(HERE, "../dist/cli.js"), "--workers", "1", "-E", "production", "--keepalive-timeout", keep === "keep" ? "5" : "0", "--listen", "127.0.0.1:0", path.resolve(HERE, "http/app.mjs")], {
              stdio: ["ignore", "ignore", "pipe"],
              env: { ...process.env, PRONGHORN_NO_ONREAD: mode === "pronghorn-data" ? "1" : "0" },
            })
          : spawn(DENO, ["run", "-A", fileURLToPath(import.meta.url), "serve", mode, "0", keep], { stdio: ["ignore", "pipe", "inherit"] });
        const port = await new Promise((resolve, reject) => {
          let text = "";
          (pronghorn ? child.stderr : child.stdout).on("data", (d) => {
            text += d;
            const m = /ready (\d+)|accepting connections at http:\/\/[^:]+:(\d+)\//.exec(text);
            if (m) resolve(Number(m[1] ?? m[2]));
          });
          child.once("exit", () => reject(new Error(`${mode} server exited`)));
        });
        const wrkArgs = ["-t1", `-c${CONNECTIONS}`, `-d${DURATION}s`, `http://127.0.0.1:${port}/`];
        if (keep === "close") wrkArgs.unshift("-H", "Connection: close");
        const out = execFileSync("wrk", wrkArgs, { encoding: "utf8" });
        const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
        const errors = /Socket errors:.*|Non-2xx.*/.exec(out)?.[0] ?? "";
        child.kill("SIGKILL");
        await new Promise((resolve) => child.once("exit", resolve));
        (results[`${mode} ${keep}`] ??= []).push(rps);
        console.log(`round ${r + 1} ${keep} ${mode}: ${rps.toFixed(0)} rps ${errors}`);
      }
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  let table = `| candidate | keep-alive rps (median) | Connection: close rps (median) | all keep-alive rounds | all close rounds |\n|---|---|---|---|---|\n`;
  for (const mode of MODES) {
    const k = results[`${mode} keep`], c = results[`${mode} close`];
    table += `| ${mode} | ${median(k).toFixed(0)} | ${median(c).toFixed(0)} | ${k.map((x) => x.toFixed(0)).join(", ")} | ${c.map((x) => x.toFixed(0)).join(", ")} |\n`;
  }
  console.log(table);
  if (OUT) fs.writeFileSync(OUT, table);
}

if (process.argv[2] === "serve") {
  const [, , , mode, port, keep] = process.argv;
  if (mode === "deno") await serveDeno(Number(port), keep === "keep");
  else serveNet(mode, Number(port), keep === "keep");
} else if (typeof Deno === "undefined") {
  await drive();
} else {
  console.error("run the driver with node: node bench/deno-sockets.mjs");
}
