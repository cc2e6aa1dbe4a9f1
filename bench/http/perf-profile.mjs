// Where a request's CPU goes, by category: `perf record -g` on the process that serves (pronghorn's
// worker, or the peer's one process) while wrk loads it, then every sample is put in one
// category and the shares are printed, with the server's CPU-µs per request to scale them.
//
//   node bench/http/perf-profile.mjs --runtime node26 --server pronghorn|peer
//        [--mode keep-alive|close] [--seconds 5] [--connections 50] [--dist DIR] [--top 25]
//        [--env K=V,...]
//
// Categories: a sample whose kernel stack passes through a system call is charged to that call
// (sys read/recv, sys write/send, accept, close, shutdown, epoll, io_uring, setsockopt, ...);
// other kernel samples are page faults or "kernel other" (interrupts, softirq, scheduler).
// A user-space sample is GC when any frame is V8's or JSC's collector, else it goes to the
// nearest JavaScript frame on its stack (V8's perf map, from --perf-basic-prof, names JS
// functions with their file): pronghorn http/ (parse glue, dispatch, Request/Response, head),
// pronghorn runtime/ (the socket adapter), wasm (the parser), node:net / streams (the runtime's
// own JS), other JS; with no JS frame, "native, no JS caller" (event loop, libuv, V8 entry; on
// Bun, whose binary has no symbols and whose JIT has no perf map, all of user space except
// JIT code, which shows as "JIT code (unnamed)").
// Needs perf (as root or with perf_event_paranoid <= 1) and wrk; Linux only.
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as L from "./lib.mjs";

const SCRIPT = "bench/http/perf-profile.mjs";
const { opts, num } = L.parseArgs(SCRIPT, process.argv.slice(2),
  ["runtime", "server", "mode", "seconds", "connections", "dist", "top", "env"], [],
  [`usage: node ${SCRIPT} --runtime node20|node24|node26|bun|deno --server pronghorn|peer [--mode keep-alive|close] [--seconds 5] [--connections 50] [--dist DIR] [--top 25] [--env K=V,...]`]);
const RT = opts.runtime ?? "node26";
const WHICH = opts.server ?? "pronghorn";
const MODE = opts.mode ?? "keep-alive";
const SECONDS = Math.floor(num("seconds", 5, 2));
const CONNECTIONS = Math.floor(num("connections", 50, 1));
const TOP = Math.floor(num("top", 25, 0));
const DIST = path.resolve(opts.dist ?? path.join(L.ROOT, "dist"));
const ENV = Object.fromEntries((opts.env ?? "").split(",").filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
const APP = path.join(L.HERE, "app.mjs");
const TICK_US = 1e6 / Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
L.installCleanup(SCRIPT);

const ph = [path.join(DIST, "cli.js"), APP, "--host", "127.0.0.1", "--port", "0", "--workers", "1", "-E", "production"];
let cmd, args;
if (RT.startsWith("node")) {
  const n = L.findNode(Number(RT.slice(4)));
  if (!n) throw new Error(`no ${RT}`);
  cmd = n.bin;
  args = ["--perf-basic-prof", ...(WHICH === "pronghorn" ? ph : [path.join(L.HERE, "node-http.mjs")])];
} else if (RT === "bun") {
  cmd = L.findBin("bun").bin;
  args = WHICH === "pronghorn" ? ph : [path.join(L.HERE, "bun-serve.mjs")];
} else if (RT === "deno") {
  cmd = L.findBin("deno").bin;
  args = ["run", "-A", "--v8-flags=--perf-basic-prof", ...(WHICH === "pronghorn" ? ph : [path.join(L.HERE, "deno-serve.mjs")])];
} else throw new Error(`unknown runtime ${RT}`);

function stat(pid) {
  const s = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
  return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), start: Number(f[19]) };
}

const r = await L.start(cmd, args, { env: WHICH === "pronghorn" ? ENV : undefined });
if (r.error) throw new Error(r.error);
const url = /^\d+$/.test(r.addr) ? `http://127.0.0.1:${r.addr}/` : r.addr.replace(/\/?$/, "/");
await L.checkHello(url);
let pid = r.proc.pid;
if (WHICH === "pronghorn") {
  const kids = fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map((d) => { try { return { pid: Number(d), ...stat(d) }; } catch { return null; } })
    .filter((k) => k && k.ppid === r.proc.pid).sort((a, b) => b.start - a.start);
  pid = kids[0].pid;
}
const wrkArgs = (s) => ["-t1", `-c${CONNECTIONS}`, `-d${s}s`, ...(MODE === "close" ? ["-H", "Connection: close"] : []), url];
await L.wrk(wrkArgs(2), 2); // warm-up: JIT settled before sampling

const data = path.join(os.tmpdir(), `perf-profile-${process.pid}.data`);
const load = L.wrk(wrkArgs(SECONDS + 2), SECONDS + 2);
await new Promise((res) => setTimeout(res, 1000));
const t0 = stat(pid).ticks;
execFileSync("perf", ["record", "-q", "-F", "1999", "-g", "-o", data, "-p", String(pid), "--", "sleep", String(SECONDS)], { stdio: "ignore", timeout: (SECONDS + 30) * 1000 });
const t1 = stat(pid).ticks;
const w = await load;
const totalReq = Number(/(\d+) requests in/.exec(w.text)?.[1] ?? NaN);
// requests during the sampled window, assuming a steady rate over wrk's run
const usPerReq = ((t1 - t0) * TICK_US) / (w.rps * SECONDS);
const text = execFileSync("perf", ["script", "-i", data, "-F", "comm,tid,ip,sym,dso"], { encoding: "utf8", maxBuffer: 1 << 30, stdio: ["ignore", "pipe", "ignore"] });
fs.rmSync(data, { force: true });
await L.stop(r.proc);
for (const f of fs.readdirSync("/tmp")) if (f.startsWith("perf-") && f.endsWith(".map")) { /* V8 maps are left for inspection; removed below */ }

// ---------- classify ----------

// Kernel frames, from the leaf up: the first that names what the kernel is doing decides. Many
// syscall entry points are tail calls or inlined (ksys_read, __sys_sendto), and close(2)'s work
// runs later, from task_work on the way back to user space (__fput, tcp_close).
const KERNEL = [
  [/^(finish_task_switch|__schedule|schedule|schedule_hrtimeout_range|preempt_schedule)/, "kernel: scheduling (switched out/in)"],
  [/exc_page_fault|handle_mm_fault|do_user_addr_fault/, "kernel: page faults"],
  [/^(tcp_recvmsg|tcp_recvmsg_locked|sock_recvmsg|sock_read_iter|__sys_recvfrom|ksys_read|__x64_sys_read|__x64_sys_recvfrom|tcp_cleanup_rbuf)/, "sys read/recv"],
  [/^(tcp_sendmsg|tcp_sendmsg_locked|sock_sendmsg|sock_write_iter|__sys_sendto|ksys_write|do_writev|__x64_sys_write|__x64_sys_writev|__x64_sys_sendto|tcp_push|__tcp_push_pending_frames)/, "sys write/send"],
  [/^(inet_accept|do_accept|__sys_accept4|__x64_sys_accept4|inet_csk_accept|sock_alloc_file|__sys_accept4_file)/, "sys accept"],
  [/^(inet_shutdown|tcp_shutdown|__sys_shutdown|__x64_sys_shutdown)/, "sys shutdown"],
  [/^(__fput|sock_close|tcp_close|inet_release|__x64_sys_close|close_fd|task_work_run|__tcp_close)/, "sys close"],
  [/^(ep_poll|do_epoll_wait|do_epoll_ctl|__x64_sys_epoll|ep_insert|ep_remove|ep_item_poll|ep_send_events)/, "sys epoll"],
  [/^(io_uring|io_submit_sqes|__x64_sys_io_uring|io_issue_sqe)/, "sys io_uring"],
  [/^(do_sock_setsockopt|__sys_setsockopt|__x64_sys_setsockopt|tcp_setsockopt)/, "sys setsockopt"],
  [/^(__sys_getpeername|__x64_sys_getpeername|__sys_getsockname|inet_getname)/, "sys getpeername"],
  [/^(__x64_sys_(madvise|mmap|munmap|mprotect|brk)|do_madvise|do_mmap|__vm_munmap|do_mprotect|vm_mmap)/, "sys memory (mmap/madvise)"],
  [/^(__x64_sys_futex|do_futex|futex_)/, "sys futex"],
];
// When no kernel frame names it: the libc wrapper that entered the kernel.
const LIBC_SYS = [
  [/^(read|__GI___read|__libc_read|recv|recvfrom|__libc_recvfrom|readv)$/, "sys read/recv"],
  [/^(write|__GI___write|__GI___libc_write|__libc_write|writev|__GI___writev|send|sendto|__libc_sendto|sendmsg)$/, "sys write/send"],
  [/accept/, "sys accept"], [/shutdown/, "sys shutdown"], [/^(close|__GI___close|__close)/, "sys close"],
  [/epoll/, "sys epoll"], [/setsockopt/, "sys setsockopt"],
];
const isGC = (sym) => /Heap::|Scavenge|MarkCompact|Sweeper|GCTracer|Evacuat|ConcurrentMarking|MinorMS|JSC::Heap|SlotVisitor|MarkedBlock|GCClient|IncrementalMarking|MemoryAllocator::/.test(sym);
function jsCategory(sym) {
  if (/wasm-function|^Function:.*wasm|\bwasm\b|^JS:.*\[wasm\]/i.test(sym)) return "wasm (parser)";
  if (/\/dist\/http\/|\/http\/[a-z-]+\.js/.test(sym)) return "pronghorn http/ JS";
  if (/\/dist\/runtime\/|\/runtime\/[a-z-]+\.js/.test(sym)) return "pronghorn runtime/ JS";
  if (/node:(net|stream|internal\/stream|internal\/streams|_stream|internal\/net|internal\/stream_base|events|internal\/timers|timers|internal\/process\/task_queues|internal\/async_hooks)|ext:deno_node\/(net|internal\/stream|internal\/streams|internal_binding\/stream_wrap|internal_binding\/tcp_wrap|_stream|internal\/net|_events)/.test(sym)) return "runtime's net/streams JS";
  if (/node:_http|ext:deno_node\/_http|node:http/.test(sym)) return "node:http JS";
  if (/ext:deno_http|00_serve|ext:deno_fetch|ext:deno_web|ext:deno_net/.test(sym)) return "Deno.serve / fetch JS";
  if (/bench\/http\/app\.mjs|\/app\.mjs|node-http\.mjs/.test(sym)) return "app JS";
  return "other JS";
}
const isJsFrame = (sym, dso) => /^(JS:|LazyCompile:|Function:|InterpretedFunction:|Builtin:|BytecodeHandler:|Script:|RegExp:|Stub:|Handler:)/.test(sym) || /perf-\d+\.map/.test(dso);

const counts = new Map();
const topSyms = new Map();
const userKeys = new Map();
let total = 0;
const add = (m, k, n = 1) => m.set(k, (m.get(k) ?? 0) + n);
for (const block of text.split("\n\n")) {
  const lines = block.split("\n").filter((l) => l.trim());
  if (lines.length < 2) continue;
  const frames = lines.slice(1).map((l) => {
    const m = /^\s*[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$/.exec(l);
    return m ? { sym: m[1].replace(/\+0x[0-9a-f]+$/, ""), dso: m[2] } : { sym: l.trim(), dso: "" };
  });
  total++;
  const leaf = frames[0];
  add(topSyms, `${leaf.sym} (${path.basename(leaf.dso)})`);
  let cat = null;
  const kernel = leaf.dso.includes("kernel");
  if (kernel) {
    for (const f of frames) {
      if (!f.dso.includes("kernel")) {
        for (const [re, c] of LIBC_SYS) if (re.test(f.sym)) { cat = c; break; }
        break;
      }
      for (const [re, c] of KERNEL) if (re.test(f.sym)) { cat = c; break; }
      if (cat) break;
    }
    if (!cat) cat = frames.some((f) => /^(do_syscall_64|entry_SYSCALL)/.test(f.sym)) ? "kernel: other, in a syscall" : "kernel: other (irq, softirq)";
  } else if (frames.some((f) => isGC(f.sym))) {
    cat = "GC";
  } else {
    const js = frames.find((f) => isJsFrame(f.sym, f.dso));
    if (js) {
      cat = jsCategory(js.sym);
      add(userKeys, `${cat}: ${js.sym.replace(/^JS:[*~^+']*/, "").replace(/file:\/\/\S*\/(http|runtime)\//, "$1/")}`);
    }
    else if (RT === "bun" && (leaf.dso === "[unknown]" || leaf.dso === "" || /^\[anon|memfd|jit/.test(leaf.dso))) cat = "JIT code (unnamed)";
    else if (/libc\.so|libc-|libpthread/.test(leaf.dso)) cat = "libc (no JS caller)";
    else cat = "native, no JS caller (event loop, runtime)";
    if (!js) add(userKeys, `${cat}: ${leaf.sym}`);
  }
  add(counts, cat);
}

const rows = [...counts].sort((a, b) => b[1] - a[1]);
console.log(`${RT} ${WHICH} ${MODE}: pid ${pid}, ${total} samples over ${SECONDS} s, ${w.rps.toFixed(0)} req/s (${totalReq} requests), ${usPerReq.toFixed(1)} CPU-µs/request`);
console.log("");
console.log("| category | share | µs/request |");
console.log("|---|---:|---:|");
for (const [k, n] of rows) console.log(`| ${k} | ${((100 * n) / total).toFixed(1)}% | ${((usPerReq * n) / total).toFixed(2)} |`);
if (TOP > 0) {
  console.log("");
  console.log(`Top ${TOP} in user space (JS samples by their nearest JS function, the rest by leaf symbol), share of all samples:`);
  for (const [k, n] of [...userKeys].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`  ${((100 * n) / total).toFixed(1).padStart(5)}%  ${k.slice(0, 160)}`);
  console.log("");
  console.log(`Top ${TOP} leaf symbols:`);
  for (const [k, n] of [...topSyms].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`  ${((100 * n) / total).toFixed(1).padStart(5)}%  ${k.slice(0, 160)}`);
}
try { fs.rmSync(`/tmp/perf-${pid}.map`, { force: true }); } catch {}
