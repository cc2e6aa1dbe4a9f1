/**
 * Node's supervisor half: listening sockets bound but never polled, and workers spawned with
 * them as inherited fds plus an IPC channel.
 *
 * Why bound and not listening: a listening handle in the supervisor is polled by libuv, so the
 * supervisor would accept connections it never serves. Node has no public "bind without
 * listen", so this uses the private `net._createServerHandle(address, port, addressType, fd)`
 * (what cluster's SCHED_NONE uses; tested on Node 20.20, 24.22 and 26.12). The socket turns
 * listening at the first worker's listen({fd}) and stays listening while any process holds it,
 * so the kernel keeps queueing connections while workers come and go (no refusal during a HUP).
 *
 * Deno's node:net and node:child_process do the same (deno.ts), with the differences passed in
 * as a `SpawnPlan`: the command that re-runs the entry script, and how the sockets travel. Node
 * hands them over as inherited fds; Deno sends the handles over the IPC channel, because passing
 * an fd in `stdio` clears O_NONBLOCK on the shared socket while the child starts, and a worker
 * already accepting on it then blocks inside accept4(2).
 */
import net from "node:net";
import util from "node:util";
import { spawn } from "node:child_process";
import type { BoundListener, ListenTarget, SupervisorMessage, SupervisorRuntime, Signal, WorkerContext, WorkerMessage } from "./runtime.js";
import { bindAll, resolveHost, checkInheritedSocket, checkSocketPath, describeTarget, removeStaleSocket, socketFileRemover } from "./bind-checks.js";
import { workerEnv, onSupervisorSignal, LISTENER_MESSAGE, type ListenerMessage } from "./worker-channel.js";

/** What `net._createServerHandle` returns: a libuv TCP or Pipe wrap, or a negative errno. */
interface ServerHandle {
  readonly fd: number;
  getsockname?(out: { address?: string; port?: number; family?: string }): number;
  close(): void;
}
type CreateServerHandle = (address: string | null, port: number | null, addressType: number | null, fd?: number, flags?: number) => ServerHandle | number;
// Private API, see the file comment. Typed here because @types/node does not declare it.
const createServerHandle = (net as unknown as { _createServerHandle: CreateServerHandle })._createServerHandle;

function errname(errno: number): string {
  const name = util.getSystemErrorName(errno);
  const text = util.getSystemErrorMap().get(errno)?.[1];
  return text ? `${name} (${text})` : name;
}

/** `http://host:port/` for a bound socket, from getsockname. */
function tcpUrl(out: { address?: string; port?: number; family?: string | number }): string {
  const v6 = out.family === "IPv6" || out.family === 6 || (out.address ?? "").includes(":");
  return `http://${v6 ? `[${out.address}]` : out.address}:${out.port}/`;
}

async function bindTcp(t: Extract<ListenTarget, { kind: "tcp" }>, plan: SpawnPlan): Promise<{ handle: ServerHandle; url: string }> {
  const { address, family } = await resolveHost(t);
  const handle = createServerHandle(address, t.port, family, undefined, 0);
  if (typeof handle === "number") throw new Error(`pronghorn: cannot listen on ${describeTarget(t)}: ${errname(handle)}`);
  // libuv defers a bind's EADDRINUSE until listen(); getsockname reports it now. Without this
  // check the first worker's listen() would auto-bind a random port on the unbound socket.
  const out: { address?: string; port?: number } = {};
  const err = handle.getsockname!(out);
  if (err) {
    handle.close();
    throw new Error(`pronghorn: cannot listen on ${describeTarget(t)}: ${errname(err)}`);
  }
  // Deno's bind() returns 0 even when bind(2) failed, leaving the socket unbound (port 0).
  if (!out.port || (t.port !== 0 && out.port !== t.port)) {
    handle.close();
    const why = plan.bindFailure?.(address, t.port) ?? "EADDRINUSE (address already in use)";
    throw new Error(`pronghorn: cannot listen on ${describeTarget(t)}: ${why}`);
  }
  return { handle, url: tcpUrl({ ...out, family }) };
}

interface NodeBound extends BoundListener {
  readonly fd: number;
  readonly handle: ServerHandle;
  isClosed(): boolean;
}

async function bindOne(t: ListenTarget, plan: SpawnPlan): Promise<NodeBound> {
  let handle: ServerHandle;
  let url: string;
  let removeFile = () => {};
  if (t.kind === "tcp") {
    ({ handle, url } = await bindTcp(t, plan));
  } else if (t.kind === "unix") {
    checkSocketPath(t.path);
    await removeStaleSocket(t.path);
    const h = createServerHandle(t.path, -1, -1, undefined, 0);
    if (typeof h === "number") throw new Error(`pronghorn: cannot listen on unix:${t.path}: ${errname(h)}`);
    handle = h;
    url = `unix:${t.path}`;
    removeFile = socketFileRemover(t.path);
  } else {
    checkInheritedSocket(t.fd, describeTarget(t));
    const h = createServerHandle(null, null, null, t.fd);
    if (typeof h === "number") throw new Error(`pronghorn: cannot use ${describeTarget(t)}: ${errname(h)}`);
    handle = h;
    const out: { address?: string; port?: number; family?: string } = {};
    if (handle.getsockname && handle.getsockname(out) === 0 && out.port !== undefined) url = tcpUrl(out);
    else url = t.name.startsWith("/") ? `unix:${t.name}` : `fd:${t.fd}`;
  }
  let closed = false;
  return {
    target: t,
    url,
    inherited: t.kind === "fd",
    fd: handle.fd,
    handle,
    isClosed: () => closed,
    close() {
      if (closed) return;
      closed = true;
      handle.close();
      removeFile();
    },
  };
}

/** How a runtime with Node's child_process starts a worker. */
export interface SpawnPlan {
  /** The executable and arguments that re-run this process's entry script. */
  command(): [string, string[]];
  /** "fd": the sockets are the child's fds 3, 4, ...; "ipc": their handles are sent over the IPC
   *  channel right after the spawn (worker-channel.ts collectListeners). */
  handOver: "fd" | "ipc";
  /** Why binding `address`:`port` failed, for a runtime whose bind() hides the errno. */
  bindFailure?(address: string, port: number): string;
}

const nodePlan: SpawnPlan = {
  command: () => [process.execPath, [...process.execArgv, process.argv[1]!, ...process.argv.slice(2)]],
  handOver: "fd",
};

export const nodeSupervisor = handleSupervisor(nodePlan);

/** The supervisor half over `net._createServerHandle` and `child_process.spawn`. */
export function handleSupervisor(plan: SpawnPlan): Pick<SupervisorRuntime, "bindListeners" | "spawnWorker" | "onSignal"> {
  return {
    bindListeners: (targets) => bindAll(targets, (t) => bindOne(t, plan)),

    spawnWorker(spec, events) {
      const bound = spec.listeners as readonly NodeBound[];
      const viaFd = plan.handOver === "fd";
      const ctx: WorkerContext = {
        id: spec.id,
        generation: spec.generation,
        // By fd: the listeners land in the child's stdio slots 3, 4, ... (after stdin, stdout, stderr).
        listeners: bound.map((l, i) => ({ url: l.url, via: viaFd ? { kind: "fd", fd: 3 + i } : { kind: "ipc", index: i } })),
        payload: spec.payload,
      };
      const [cmd, args] = plan.command();
      const child = spawn(cmd, args, {
        stdio: ["ignore", "inherit", "inherit", ...(viaFd ? bound.map((l) => l.fd) : []), "ipc"],
        env: workerEnv(ctx),
      });
      let exited = false;
      child.on("message", (m: WorkerMessage) => events.message(m));
      // "ipc": every handle goes now, before any other message can: Deno 2.9 loses a handle
      // message (and all that follow it) when an unread plain message precedes it on the channel.
      if (!viaFd && child.pid !== undefined) {
        bound.forEach((l, index) => {
          const m: ListenerMessage = { type: LISTENER_MESSAGE, index };
          try {
            if (l.isClosed()) child.send(m, (err: Error | null) => void err);
            else child.send(m, l.handle as never, (err: Error | null) => void err);
          } catch {
            // the worker is gone; its exit event follows
          }
        });
      }
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

    onSignal: onSupervisorSignal,
  };
}
