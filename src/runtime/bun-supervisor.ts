/**
 * Bun's supervisor half: listening sockets that nobody polls, and workers spawned with them as
 * inherited fds plus an IPC channel.
 *
 * Bun has no way to bind without polling (a `Bun.listen` listener in the supervisor would accept
 * connections it never serves, racing the workers) and no `_createServerHandle`, so the sockets
 * are made with libc through bun:ffi (bun-libc.ts): bound and listening, so the kernel queues
 * connections from the start and while workers come and go, but never read here. Inherited fds
 * (Server::Starter, systemd) are held as they are. Workers are started with `Bun.spawn`, which
 * dup2()s each socket into the child's fd 3, 4, ... and opens a JSON IPC channel that the child
 * sees as Node's process.send / process.on("message") (worker-channel.ts).
 */
import type { BunApi, BunSubprocess } from "./bun-api.js";
import type { BoundListener, ListenTarget, Signal, SupervisorMessage, SupervisorRuntime, WorkerContext, WorkerMessage } from "./runtime.js";
import { bindAll, resolveHost, checkInheritedSocket, checkSocketPath, describeTarget, removeStaleSocket, socketFileRemover } from "./bind-checks.js";
import { onSupervisorSignal, workerEnv } from "./worker-channel.js";
import { closeFd, listeningSocket, sockName, type SockName } from "./bun-libc.js";

const Bun = (globalThis as unknown as { Bun: BunApi }).Bun;

interface BunBound extends BoundListener {
  readonly fd: number;
}

function tcpUrl(name: SockName): string {
  if (name.family === "unix") return `unix:${name.path}`;
  return `http://${name.family === "IPv6" ? `[${name.address}]` : name.address}:${name.port}/`;
}

async function bindTcp(t: Extract<ListenTarget, { kind: "tcp" }>, backlog: number): Promise<number> {
  const { address, family } = await resolveHost(t);
  try {
    return listeningSocket({ family, address, port: t.port }, backlog);
  } catch (err) {
    throw new Error(`pronghorn: cannot listen on ${describeTarget(t)}: ${(err as Error).message}`);
  }
}

async function bindOne(t: ListenTarget, backlog: number): Promise<BunBound> {
  let fd: number;
  let url: string;
  let removeFile = () => {};
  if (t.kind === "tcp") {
    fd = await bindTcp(t, backlog);
    url = tcpUrl(sockName(fd)!);
  } else if (t.kind === "unix") {
    checkSocketPath(t.path);
    await removeStaleSocket(t.path);
    try {
      fd = listeningSocket({ family: "unix", path: t.path }, backlog);
    } catch (err) {
      throw new Error(`pronghorn: cannot listen on unix:${t.path}: ${(err as Error).message}`);
    }
    url = `unix:${t.path}`;
    removeFile = socketFileRemover(t.path);
  } else {
    checkInheritedSocket(t.fd, describeTarget(t));
    fd = t.fd;
    const name = sockName(fd);
    url = name !== undefined && name.family !== "unix" ? tcpUrl(name) : t.name.startsWith("/") ? `unix:${t.name}` : `fd:${t.fd}`;
  }
  let closed = false;
  return {
    target: t,
    url,
    inherited: t.kind === "fd",
    fd,
    close() {
      if (closed) return;
      closed = true;
      closeFd(fd);
      removeFile();
    },
  };
}

function spawnWorker(spec: Parameters<SupervisorRuntime["spawnWorker"]>[0], events: Parameters<SupervisorRuntime["spawnWorker"]>[1]) {
  const fds = spec.listeners.map((l) => (l as BunBound).fd);
  const ctx: WorkerContext = {
    id: spec.id,
    generation: spec.generation,
    // Bun.spawn dup2()s stdio[3], stdio[4], ... into the child's fds 3, 4, ...
    listeners: spec.listeners.map((l, i) => ({ url: l.url, via: { kind: "fd", fd: 3 + i } })),
    payload: spec.payload,
  };
  let exited = false;
  let child: BunSubprocess;
  try {
    child = Bun.spawn([process.execPath, ...process.execArgv, process.argv[1]!, ...process.argv.slice(2)], {
      stdio: ["ignore", "inherit", "inherit", ...fds],
      env: workerEnv(ctx),
      serialization: "json",
      ipc: (m) => events.message(m as WorkerMessage),
      onExit(_p, code, signal) {
        exited = true;
        events.exit(code, signal);
      },
    });
  } catch (err) {
    // posix_spawn itself failed: no exit follows. Reported from a task, as Node does.
    exited = true;
    process.stderr.write(`pronghorn: cannot start a worker: ${(err as Error)?.message ?? err}\n`);
    setTimeout(() => events.exit(127, null), 0);
    return { pid: -1, send() {}, kill() {} };
  }
  return {
    pid: child.pid,
    send(m: SupervisorMessage) {
      if (exited) return;
      try {
        child.send(m);
      } catch {
        // a dying worker: its exit follows
      }
    },
    kill(signal: Signal) {
      if (!exited) child.kill(signal);
    },
  };
}

/** The supervisor's listeners are made with the kernel's usual default backlog; each worker
 *  sets the configured one when it adopts the socket (listen(2) again only updates it). */
const INITIAL_BACKLOG = 511;

export const bunSupervisor: Pick<SupervisorRuntime, "bindListeners" | "spawnWorker" | "onSignal"> = {
  bindListeners: (targets) => bindAll(targets, (t) => bindOne(t, INITIAL_BACKLOG)),
  spawnWorker,
  onSignal: onSupervisorSignal,
};
