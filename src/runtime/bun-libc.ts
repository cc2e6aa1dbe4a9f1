/**
 * The socket calls Bun's own API lacks, made to libc through `bun:ffi`. Bun cannot bind a socket
 * without also polling it (a `Bun.listen` listener accepts at once, racing the workers) and has
 * no `_createServerHandle`, so the supervisor makes its listening sockets here: socket(2),
 * setsockopt(SO_REUSEADDR), bind(2), listen(2), and never reads them. getsockname(2) tells what
 * an inherited fd is (`Bun.listen({fd}).port` is undefined), and a second listen(2) restores the
 * backlog that `Bun.listen({fd})` resets to 511. The constants and sockaddr layouts are Linux's
 * (glibc or musl).
 */
import util from "node:util";
import { createRequire } from "node:module";
import type { BunFfi } from "./bun-api.js";

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, len: number): number;
  bind(fd: number, addr: Uint8Array, len: number): number;
  listen(fd: number, backlog: number): number;
  getsockname(fd: number, addr: Uint8Array, len: Uint32Array): number;
  close(fd: number): number;
  inet_pton(af: number, src: Uint8Array, dst: Uint8Array): number;
  if_nametoindex(name: Uint8Array): number;
  __errno_location(): number;
}

const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000; // a worker gets its copy by dup2() at spawn, which clears it
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
/** sizeof(struct sockaddr_un): 2 bytes of family, 108 of path. */
const SOCKADDR_UN = 110;

let loaded: { libc: Libc; ffi: BunFfi } | undefined;

function load(): { libc: Libc; ffi: BunFfi } {
  if (loaded) return loaded;
  if (process.platform !== "linux") throw new Error(`sockets through bun:ffi are implemented for Linux only, not ${process.platform}`);
  const ffi = createRequire(import.meta.url)("bun:ffi") as BunFfi;
  const i32 = "i32", ptr = "ptr";
  const symbols = {
    socket: { args: [i32, i32, i32], returns: i32 },
    setsockopt: { args: [i32, i32, i32, ptr, "u32"], returns: i32 },
    bind: { args: [i32, ptr, "u32"], returns: i32 },
    listen: { args: [i32, i32], returns: i32 },
    getsockname: { args: [i32, ptr, ptr], returns: i32 },
    close: { args: [i32], returns: i32 },
    inet_pton: { args: [i32, ptr, ptr], returns: i32 },
    if_nametoindex: { args: [ptr], returns: "u32" },
    __errno_location: { args: [], returns: ptr },
  };
  const arch = process.arch === "arm64" ? "aarch64" : "x86_64";
  const names = ["libc.so.6", `libc.musl-${arch}.so.1`, "libc.so"];
  let lastError: unknown;
  for (const name of names) {
    try {
      loaded = { libc: ffi.dlopen<Libc>(name, symbols).symbols, ffi };
      return loaded;
    } catch (err) {
      lastError = err;
    }
  }
  throw new Error(`cannot load libc through bun:ffi (${(lastError as Error)?.message ?? lastError})`);
}

/** An error whose message is `EADDRINUSE (address already in use)`, as Node's errors read. */
export class SocketCallError extends Error {
  readonly code: string;
  readonly syscall: string;
  constructor(code: string, syscall: string, text: string) {
    super(text ? `${code} (${text})` : code);
    this.code = code;
    this.syscall = syscall;
  }
}

function fail(libc: Libc, ffi: BunFfi, syscall: string): never {
  const errno = ffi.read.i32(libc.__errno_location(), 0);
  let code = `errno ${errno}`;
  let text = "";
  try {
    code = util.getSystemErrorName(-errno);
    text = util.getSystemErrorMap().get(-errno)?.[1] ?? "";
  } catch {
    // an errno Node's table does not know: keep the number
  }
  throw new SocketCallError(code, syscall, text);
}

export type SocketAddress =
  | { family: 4 | 6; address: string; port: number }
  | { family: "unix"; path: string };

function cstring(s: string): Uint8Array {
  return Buffer.from(s + "\0", "utf8");
}

function sockaddr(libc: Libc, a: SocketAddress): Uint8Array {
  if (a.family === "unix") {
    const path = Buffer.from(a.path, "utf8");
    // An abstract socket ("\0name") has no terminating NUL; a path has one.
    const sa = new Uint8Array(2 + path.length + (path[0] === 0 ? 0 : 1));
    new DataView(sa.buffer).setUint16(0, AF_UNIX, true);
    sa.set(path, 2);
    return sa;
  }
  if (a.family === 4) {
    const sa = new Uint8Array(16);
    const view = new DataView(sa.buffer);
    view.setUint16(0, AF_INET, true);
    view.setUint16(2, a.port, false);
    if (libc.inet_pton(AF_INET, cstring(a.address), sa.subarray(4, 8)) !== 1) throw new SocketCallError("EINVAL", "inet_pton", `not an IPv4 address: ${a.address}`);
    return sa;
  }
  const [address, zone] = a.address.split("%", 2) as [string, string | undefined];
  const sa = new Uint8Array(28);
  const view = new DataView(sa.buffer);
  view.setUint16(0, AF_INET6, true);
  view.setUint16(2, a.port, false);
  if (libc.inet_pton(AF_INET6, cstring(address), sa.subarray(8, 24)) !== 1) throw new SocketCallError("EINVAL", "inet_pton", `not an IPv6 address: ${a.address}`);
  if (zone !== undefined) view.setUint32(24, /^\d+$/.test(zone) ? Number(zone) : libc.if_nametoindex(cstring(zone)), true);
  return sa;
}

/** socket(2), SO_REUSEADDR (tcp), bind(2), listen(2): a listening socket nobody polls. Returns
 *  its fd (non-blocking, close-on-exec); throws a SocketCallError. */
export function listeningSocket(a: SocketAddress, backlog: number): number {
  const { libc, ffi } = load();
  const sa = sockaddr(libc, a);
  const domain = a.family === "unix" ? AF_UNIX : a.family === 4 ? AF_INET : AF_INET6;
  const fd = libc.socket(domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) fail(libc, ffi, "socket");
  try {
    // What libuv does for every tcp listener: a restart can bind while old connections linger
    // in TIME_WAIT.
    if (domain !== AF_UNIX && libc.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, new Uint8Array(new Int32Array([1]).buffer), 4) !== 0) fail(libc, ffi, "setsockopt");
    if (libc.bind(fd, sa, sa.length) !== 0) fail(libc, ffi, "bind");
    if (libc.listen(fd, backlog) !== 0) fail(libc, ffi, "listen");
  } catch (err) {
    libc.close(fd);
    throw err;
  }
  return fd;
}

export type SockName =
  | { family: "IPv4" | "IPv6"; address: string; port: number }
  | { family: "unix"; path: string };

/** getsockname(2): what a socket fd is bound to, or undefined when it is not a socket. */
export function sockName(fd: number): SockName | undefined {
  const { libc } = load();
  const out = new Uint8Array(SOCKADDR_UN);
  const len = new Uint32Array([out.length]);
  if (libc.getsockname(fd, out, len) !== 0) return undefined;
  const view = new DataView(out.buffer);
  const family = view.getUint16(0, true);
  if (family === AF_INET) return { family: "IPv4", address: out.subarray(4, 8).join("."), port: view.getUint16(2, false) };
  if (family === AF_INET6) return { family: "IPv6", address: ipv6Text(out.subarray(8, 24)), port: view.getUint16(2, false) };
  if (family === AF_UNIX) {
    let path = Buffer.from(out.subarray(2, Math.min(len[0]!, out.length))).toString("utf8");
    if (path.length > 0 && path[0] !== "\0") path = path.replace(/\0.*$/s, "");
    return { family: "unix", path };
  }
  return undefined;
}

/** RFC 5952 text of an IPv6 address: lower case, the longest run of zero groups as "::". */
function ipv6Text(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  }
  let bestAt = -1, bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { bestAt = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestAt < 0) return hex.join(":");
  return `${hex.slice(0, bestAt).join(":")}::${hex.slice(bestAt + bestLen).join(":")}`;
}

/** listen(2) again on a listening socket: Linux only updates its backlog. */
export function setBacklog(fd: number, backlog: number): void {
  const { libc } = load();
  libc.listen(fd, backlog);
}

/** close(2) of our copy of a socket (never shutdown(2): other processes hold it too). */
export function closeFd(fd: number): void {
  const { libc } = load();
  libc.close(fd);
}
