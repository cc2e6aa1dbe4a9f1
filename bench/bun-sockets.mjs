// Which socket API should a pronghorn worker on Bun accept with? Runs one worker process per
// variant on a listening socket handed over as fd 3 (exactly as the supervisor does it: bound
// with libc through bun:ffi, passed in Bun.spawn's stdio), drives it with wrk, and alternates
// the variants A/B/A/B so that machine noise hits both alike. Prints medians.
//
//   bun bench/bun-sockets.mjs [rounds=5] [seconds=5]
//
// Besides requests/s it reports the worker's CPU time per request (utime+stime from
// /proc/PID/stat, read around each wrk run): on a shared, noisy machine that moves far less than
// throughput does, and it is what the choice is about. Each round runs both variants back to
// back, so the per-round ratio of the two is the fairest single number.
// Each worker does what the real adapter must do per chunk: copy the bytes into wasm memory
// (the parser's input area), find the end of the head, and answer with one write of head+body,
// keeping unsent bytes for drain (Bun) and half-closing after the response for
// "Connection: close" (shutdown(), then close when the peer's FIN arrives).
// Variants:
//   bun-listen  Bun.listen({ fd: 3, allowHalfOpen: true, socket: {...} })
//   node-net    node:net createServer({ allowHalfOpen: true }).listen({ fd: 3 }), 'data' events
// node:net with `onread` is not a variant: Bun offers onread only to sockets it constructs
// itself, and replacing server._handle.onconnection (what src/runtime/node-net.ts does on Node) crashes on Bun 1.4.5
// ("data.destroy is not a function"); Bun's onread also copies each chunk in JS (dest.set).
import { dlopen, FFIType } from "bun:ffi";
import { execFileSync } from "node:child_process";
import fs from "node:fs";

const VARIANTS = ["bun-listen", "node-net"];
const BODY = "Hello, World!";
const HEAD_KA = `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${BODY.length}\r\n\r\n`;
const HEAD_CLOSE = `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${BODY.length}\r\nConnection: close\r\n\r\n`;

function worker(variant) {
  const mem = new Uint8Array(new WebAssembly.Memory({ initial: 4 }).buffer, 65536, 65536);
  // The copy into wasm memory plus a scan for the end of the head and for "close"
  // (wrk sends "Connection: close" as given with -H).
  const handle = (chunk) => {
    mem.set(chunk);
    let close = false;
    const n = chunk.length;
    for (let i = 0; i + 3 < n; i++) {
      if (mem[i] === 13 && mem[i + 1] === 10 && mem[i + 2] === 13 && mem[i + 3] === 10) break;
      if (mem[i] === 99 && mem[i + 1] === 108 && mem[i + 2] === 111 && mem[i + 3] === 115 && mem[i + 4] === 101) close = true;
    }
    return close;
  };
  if (variant === "bun-listen") {
    Bun.listen({
      fd: 3, allowHalfOpen: true,
      socket: {
        open(s) { s.data = { rest: null, endAfter: false }; },
        data(s, chunk) {
          const close = handle(chunk);
          const text = (close ? HEAD_CLOSE : HEAD_KA) + BODY;
          const n = s.write(text);
          if (n < text.length) { s.data.rest = Buffer.from(text).subarray(n); s.data.endAfter = close; return; }
          if (close) s.shutdown();
        },
        drain(s) {
          const d = s.data;
          if (d.rest === null) return;
          const n = s.write(d.rest);
          d.rest = n < d.rest.length ? d.rest.subarray(n) : null;
          if (d.rest === null && d.endAfter) s.shutdown();
        },
        end(s) { s.end(); },
        close() {},
        error() {},
      },
    });
  } else {
    const net = require("node:net");
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      s.on("data", (chunk) => {
        const close = handle(chunk);
        s.write((close ? HEAD_CLOSE : HEAD_KA) + BODY);
        if (close) s.end();
      });
      s.on("end", () => s.end());
      s.on("error", () => {});
    });
    server.listen({ fd: 3 });
  }
  process.send("ready");
}

function bindLoopback() {
  const libc = dlopen("libc.so.6", {
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    setsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    bind: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    listen: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    getsockname: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  }).symbols;
  const fd = libc.socket(2, 1 | 0o2000000 /* CLOEXEC */ | 0o4000 /* NONBLOCK */, 0);
  libc.setsockopt(fd, 1, 2, new Int32Array([1]), 4);
  const sa = new Uint8Array(16);
  new DataView(sa.buffer).setUint16(0, 2, true);
  sa.set([127, 0, 0, 1], 4);
  if (libc.bind(fd, sa, 16) !== 0 || libc.listen(fd, 1024) !== 0) throw new Error("bind/listen failed");
  const out = new Uint8Array(16);
  libc.getsockname(fd, out, new Uint32Array([16]));
  return { fd, port: new DataView(out.buffer).getUint16(2, false) };
}

/** utime + stime of a process, in microseconds (clock ticks are 1/100 s on Linux). */
function cpuMicros(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10000;
}

function wrk(port, seconds, close) {
  const args = ["-t1", "-c50", `-d${seconds}s`, ...(close ? ["-H", "Connection: close"] : []), `http://127.0.0.1:${port}/`];
  const out = execFileSync("wrk", args, { encoding: "utf8" });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
  const requests = Number(/(\d+) requests in/.exec(out)[1]);
  const errors = /Socket errors: (.*)/.exec(out)?.[1] ?? "none";
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? "0";
  return { rps, requests, errors, non2xx };
}

async function main() {
  const rounds = Number(process.argv[2] ?? 5);
  const seconds = Number(process.argv[3] ?? 5);
  const { fd, port } = bindLoopback();
  const results = {};
  for (const v of VARIANTS) results[v] = { ka: [], close: [], kaCpu: [], closeCpu: [] };
  console.log(`bun ${Bun.version}, wrk -t1 -c50 -d${seconds}s, ${rounds} rounds, port ${port}`);
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
    for (const v of order) {
      let ready;
      const readyP = new Promise((res) => (ready = res));
      const child = Bun.spawn([process.execPath, import.meta.path, "--worker", v], {
        stdio: ["ignore", "inherit", "inherit", fd], serialization: "json", ipc: () => ready(),
      });
      await readyP;
      wrk(port, 1, false); // warm-up
      let cpu = cpuMicros(child.pid);
      const ka = wrk(port, seconds, false);
      const kaCpu = (cpuMicros(child.pid) - cpu) / ka.requests;
      cpu = cpuMicros(child.pid);
      const cl = wrk(port, seconds, true);
      const clCpu = (cpuMicros(child.pid) - cpu) / cl.requests;
      results[v].ka.push(ka.rps);
      results[v].close.push(cl.rps);
      results[v].kaCpu.push(kaCpu);
      results[v].closeCpu.push(clCpu);
      console.log(`round ${r + 1} ${v.padEnd(10)} keep-alive ${ka.rps.toFixed(0).padStart(7)} rps ${kaCpu.toFixed(1).padStart(5)} us/req (errors: ${ka.errors}, non-2xx ${ka.non2xx})  close ${cl.rps.toFixed(0).padStart(7)} rps ${clCpu.toFixed(1).padStart(5)} us/req (errors: ${cl.errors}, non-2xx ${cl.non2xx})`);
      child.kill("SIGKILL");
      await child.exited;
    }
  }
  const median = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
  console.log("\nmedians:");
  console.log("| variant | keep-alive req/s | keep-alive worker CPU us/req | Connection: close req/s | close worker CPU us/req |\n|---|---:|---:|---:|---:|");
  for (const v of VARIANTS) {
    const x = results[v];
    console.log(`| ${v} | ${median(x.ka).toFixed(0)} | ${median(x.kaCpu).toFixed(1)} | ${median(x.close).toFixed(0)} | ${median(x.closeCpu).toFixed(1)} |`);
  }
  const [a, b] = VARIANTS.map((v) => results[v]);
  const ratio = (k) => median(a[k].map((x, i) => x / b[k][i])).toFixed(2);
  console.log(`\nmedian per-round ratio ${VARIANTS[0]} / ${VARIANTS[1]}: keep-alive req/s ${ratio("ka")}, CPU/req ${ratio("kaCpu")}; close req/s ${ratio("close")}, CPU/req ${ratio("closeCpu")}`);
}

if (process.argv[2] === "--worker") worker(process.argv[3]);
else await main();
