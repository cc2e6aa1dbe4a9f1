/**
 * Node's ProcessRuntime: bound-but-not-listening sockets in the supervisor, workers spawned with
 * those sockets as fds 3, 4, ... plus an IPC channel, signals, timers, log sinks.
 *
 * Why bound and not listening: a listening handle in the supervisor is polled by libuv, so the
 * supervisor would accept connections it never serves. Node has no public "bind without
 * listen", so this uses the private `net._createServerHandle(address, port, addressType, fd)`
 * (what cluster's SCHED_NONE uses; tested on Node 20.20.2). The socket turns listening at
 * the first worker's listen({fd}) and stays listening while any process holds it, so the
 * kernel keeps queueing connections while workers come and go (no refusal during a HUP).
 */
import net from "node:net";
import dns from "node:dns/promises";
import fs from "node:fs";
import path from "node:path";
import util from "node:util";
import { spawn } from "node:child_process";
import type { BoundListener, ListenTarget, ProcessRuntime, Signal, SupervisorMessage, WorkerContext, WorkerMessage } from "./runtime.js";

/** The environment variable carrying a worker's WorkerContext (JSON); removed once read. */
const WORKER_ENV = "PRONGHORN_WORKER";

/** What `net._createServerHandle` returns: a libuv TCP or Pipe wrap, or a negative errno. */
interface ServerHandle {
  readonly fd: number;
  getsockname?(out: { address?: string; port?: number; family?: string }): number;
  close(): void;
}
type CreateServerHandle = (address: string | null, port: number | null, addressType: number | null, fd?: number, flags?: number) => ServerHandle | number;
// Private API, see the file comment. Typed here because @types/node does not declare it.
const createServerHandle = (net as unknown as { _createServerHandle: CreateServerHandle })._createServerHandle;

const handles = new WeakMap<BoundListener, ServerHandle>();

function errname(errno: number): string {
  const name = util.getSystemErrorName(errno);
  const text = util.getSystemErrorMap().get(errno)?.[1];
  return text ? `${name} (${text})` : name;
}

function describe(t: ListenTarget): string {
  if (t.kind === "tcp") return t.host.includes(":") ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
  if (t.kind === "unix") return `unix:${t.path}`;
  return `inherited fd ${t.fd} (${t.name})`;
}

async function bindTcp(t: Extract<ListenTarget, { kind: "tcp" }>): Promise<{ handle: ServerHandle; url: string }> {
  let address = t.host;
  let family = net.isIP(address);
  if (family === 0) {
    try {
      ({ address, family } = await dns.lookup(t.host));
    } catch (err) {
      throw new Error(`pronghorn: cannot listen on ${describe(t)}: cannot resolve "${t.host}" (${(err as NodeJS.ErrnoException).code})`);
    }
  }
  const handle = createServerHandle(address, t.port, family, undefined, 0);
  if (typeof handle === "number") throw new Error(`pronghorn: cannot listen on ${describe(t)}: ${errname(handle)}`);
  // libuv defers a bind's EADDRINUSE until listen(); getsockname reports it now. Without this
  // check the first worker's listen() would auto-bind a random port on the unbound socket.
  const out: { address?: string; port?: number } = {};
  const err = handle.getsockname!(out);
  if (err) {
    handle.close();
    throw new Error(`pronghorn: cannot listen on ${describe(t)}: ${errname(err)}`);
  }
  const host = family === 6 ? `[${out.address}]` : out.address;
  return { handle, url: `http://${host}:${out.port}/` };
}

/** sockaddr_un's sun_path is 108 bytes on Linux, NUL included. */
const SUN_PATH_MAX = 107;

/** What libuv would get wrong: it reports a missing directory as EACCES, and the libuv in Node
 *  20 truncates a long path silently (binding, and leaving, a file at the truncated path). */
function checkSocketPath(p: string): void {
  const bytes = Buffer.byteLength(p);
  if (bytes > SUN_PATH_MAX) {
    throw new Error(`pronghorn: cannot listen on unix:${p}: the path is ${bytes} bytes long, over the ${SUN_PATH_MAX}-byte limit of a unix socket path`);
  }
  const dir = path.dirname(p);
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new Error(`pronghorn: cannot listen on unix:${p}: the directory ${dir} does not exist`);
  }
  if (!st.isDirectory()) throw new Error(`pronghorn: cannot listen on unix:${p}: ${dir} is not a directory`);
}

/** An inherited fd must be an open socket: anything else would only fail in every worker
 *  (a pipe even adopts as a "listener"), ending in the give-up rule after a screenful of logs. */
function checkInheritedFd(t: Extract<ListenTarget, { kind: "fd" }>): void {
  let st: fs.Stats;
  try {
    st = fs.fstatSync(t.fd);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`pronghorn: cannot use ${describe(t)}: ${code === "EBADF" ? "the fd is not open" : code}`);
  }
  if (!st.isSocket()) throw new Error(`pronghorn: cannot use ${describe(t)}: not a socket`);
}

/** A socket file left by a dead server is replaced; a live one is an error. */
async function removeStaleSocket(path: string): Promise<void> {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(path);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new Error(`pronghorn: cannot listen on unix:${path}: the file exists and is not a socket`);
  const alive = await new Promise<boolean | string>((resolve) => {
    const s = net.connect(path);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", (e: NodeJS.ErrnoException) => resolve(e.code === "ECONNREFUSED" || e.code === "ENOENT" ? false : String(e.code)));
  });
  if (alive === true) throw new Error(`pronghorn: cannot listen on unix:${path}: another server is accepting connections there`);
  if (typeof alive === "string") throw new Error(`pronghorn: cannot listen on unix:${path}: ${alive}`);
  fs.unlinkSync(path);
}

async function bindOne(t: ListenTarget): Promise<BoundListener> {
  let handle: ServerHandle;
  let url: string;
  let cleanup = () => {};
  if (t.kind === "tcp") {
    ({ handle, url } = await bindTcp(t));
  } else if (t.kind === "unix") {
    checkSocketPath(t.path);
    await removeStaleSocket(t.path);
    const h = createServerHandle(t.path, -1, -1, undefined, 0);
    if (typeof h === "number") throw new Error(`pronghorn: cannot listen on unix:${t.path}: ${errname(h)}`);
    handle = h;
    url = `unix:${t.path}`;
    const ino = fs.statSync(t.path).ino;
    // Remove the file only if it is still ours (a newer server may have replaced it).
    cleanup = () => {
      try {
        if (fs.lstatSync(t.path).ino === ino) fs.unlinkSync(t.path);
      } catch {
        // already gone
      }
    };
  } else {
    checkInheritedFd(t);
    const h = createServerHandle(null, null, null, t.fd);
    if (typeof h === "number") throw new Error(`pronghorn: cannot use ${describe(t)}: ${errname(h)}`);
    handle = h;
    const out: { address?: string; port?: number; family?: string } = {};
    if (handle.getsockname && handle.getsockname(out) === 0 && out.port !== undefined) {
      url = `http://${out.family === "IPv6" ? `[${out.address}]` : out.address}:${out.port}/`;
    } else {
      url = t.name.startsWith("/") ? `unix:${t.name}` : `fd:${t.fd}`;
    }
  }
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    handle.close();
    cleanup();
  };
  process.once("exit", cleanup);
  const bound: BoundListener = { target: t, url, inherited: t.kind === "fd", close };
  handles.set(bound, handle);
  return bound;
}

/** Batch log lines per tick: one write(2) per tick instead of one per request. */
function openLog(path: string): (line: string) => void {
  const fd = path === "-" ? -1 : fs.openSync(path, "a");
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const text = pending.join("\n") + "\n";
    pending = [];
    if (fd < 0) process.stderr.write(text);
    else fs.writeSync(fd, text);
  };
  process.on("exit", flush);
  return (line) => {
    if (pending.push(line) === 1) setImmediate(flush);
  };
}

let context: WorkerContext | undefined | null = null;

export const nodeProcess: ProcessRuntime = {
  pid: process.pid,

  async bindListeners(targets) {
    const bound: BoundListener[] = [];
    try {
      for (const t of targets) bound.push(await bindOne(t));
    } catch (err) {
      for (const b of bound) b.close();
      throw err;
    }
    return bound;
  },

  spawnWorker(spec, events) {
    const fds = spec.listeners.map((l) => handles.get(l)!.fd);
    const ctx: WorkerContext = {
      id: spec.id,
      generation: spec.generation,
      listeners: spec.listeners.map((l, i) => ({ fd: 3 + i, name: l.target.kind === "fd" ? l.target.name : l.url })),
      payload: spec.payload,
    };
    const env: NodeJS.ProcessEnv = { ...process.env, [WORKER_ENV]: JSON.stringify(ctx) };
    // systemd's variables describe the supervisor's fds; sd_listen_fds(3) says to unset them.
    delete env.LISTEN_FDS;
    delete env.LISTEN_PID;
    delete env.LISTEN_FDNAMES;
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...process.argv.slice(2)], {
      stdio: ["ignore", "inherit", "inherit", ...fds, "ipc"],
      env,
    });
    let exited = false;
    child.on("message", (m: WorkerMessage) => events.message(m));
    child.on("exit", (code, signal) => {
      exited = true;
      events.exit(code, signal);
    });
    child.on("error", (err) => {
      // spawn(2) itself failed: no exit event follows.
      if (child.pid === undefined && !exited) {
        exited = true;
        process.stderr.write(`pronghorn: cannot start a worker: ${err.message}\n`);
        events.exit(127, null);
      }
    });
    return {
      pid: child.pid ?? -1,
      send(m: SupervisorMessage) {
        if (child.connected) child.send(m, (err: Error | null) => void err); // a dying worker: ignore
      },
      kill(signal: Signal) {
        if (!exited) child.kill(signal);
      },
    };
  },

  onSignal(handler) {
    for (const s of ["SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1"] as const) process.on(s, () => handler(s));
  },

  now: () => performance.now(),

  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },

  log(line) {
    process.stderr.write(line + "\n");
  },

  exit(code) {
    process.exit(code);
  },

  workerContext() {
    if (context === null) {
      const raw = process.env[WORKER_ENV];
      // Not inherited by processes the app starts: they are not workers.
      delete process.env[WORKER_ENV];
      context = raw !== undefined && typeof process.send === "function" ? (JSON.parse(raw) as WorkerContext) : undefined;
    }
    return context;
  },

  connectSupervisor(events) {
    process.on("message", (m: SupervisorMessage) => events.message(m));
    process.on("disconnect", () => events.gone());
    // A supervisor that died before this listener existed left no event behind: without this
    // check the worker would go on to listen and serve as an orphan.
    if (!process.connected) setImmediate(() => events.gone());
    return (m) => {
      if (process.connected) process.send!(m);
    };
  },

  onWorkerSignal(handler) {
    for (const s of ["SIGTERM", "SIGINT", "SIGQUIT"] as const) process.on(s, () => handler(s));
    // Reload and paced stop are the supervisor's; a stray HUP/USR1 must not kill a worker.
    for (const s of ["SIGHUP", "SIGUSR1"] as const) process.on(s, () => {});
  },

  openLog,
};
