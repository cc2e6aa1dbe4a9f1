/**
 * The Deno runtime. Deno's node:net and node:child_process are close enough to Node's that it
 * shares Node's implementation, with the differences passed in:
 *
 * - Supervisor (node-supervisor.ts): the same bound-but-never-polled sockets
 *   (`net._createServerHandle`), but handed to workers over the IPC channel: passing an fd in
 *   `stdio` clears O_NONBLOCK on the shared socket while the child starts, and workers already
 *   accepting on it then block in accept4(2) (the first request after a HUP hung). The handles go
 *   right after the spawn and the worker listens on them; the socket's flags never change.
 * - Worker command (deno-argv.ts): Deno's real flags from /proc/self/cmdline, not the `-A` that
 *   child_process would substitute.
 * - Sockets (node-net.ts): the same zero-copy reads into wasm memory; Deno's onconnection shim
 *   leaves the accept to the hook (node-net.ts zeroCopyClient), and a listener that closes first
 *   serves what Deno already accepted from the kernel (serveQueued). bench/deno-sockets.md
 *   measured the alternatives.
 * - Binding: Deno's bind() hides a failed bind(2); bindFailure() below names the cause.
 * - `version` is Deno's own (`process.versions.node` is its Node-compatibility version).
 *
 * What Deno does differently and pronghorn cannot change: SIGUSR1 also opens Deno's inspector on
 * 127.0.0.1:9229 (Deno >= 2.9.2, whatever listeners JS has); signals that arrive while the
 * supervisor is busy may be delivered as one (five quick HUPs can be fewer reloads); without -A
 * the workers' flags are rebuilt from the permissions granted in full (deno-argv.ts).
 */
import type { HandedListener, ListenOptions, Listener, Runtime, Socket, SocketEvents } from "./runtime.js";
import { processHost } from "./process-host.js";
import { handleSupervisor } from "./node-supervisor.js";
import { listenOn, nodeListen } from "./node-net.js";
import { collectListeners, connectSupervisor, handedListener, onWorkerSignal, readWorkerContext } from "./worker-channel.js";
import { openLog } from "./log-file.js";
import { onGlobalUncaughtError } from "./uncaught-errors.js";
import { denoWorkerCommand } from "./deno-argv.js";

interface DenoListener {
  close(): void;
}
const Deno = (globalThis as unknown as {
  Deno: Parameters<typeof denoWorkerCommand>[0] & {
    version: { deno: string };
    listen(o: { hostname: string; port: number }): DenoListener;
  };
}).Deno;

/** Deno's node:net bind() reports success when bind(2) failed; Deno.listen names the cause
 *  (it fails alike: the address is taken, privileged or not ours). */
function bindFailure(hostname: string, port: number): string {
  try {
    Deno.listen({ hostname, port }).close();
    return "EADDRINUSE (address already in use)"; // freed in between: still report the first failure
  } catch (err) {
    const name = (err as Error).name;
    if (name === "AddrInUse") return "EADDRINUSE (address already in use)";
    if (name === "PermissionDenied") return "EACCES (permission denied)";
    if (name === "AddrNotAvailable") return "EADDRNOTAVAIL (address not available)";
    return (err as Error).message;
  }
}

const host = processHost("deno", Deno.version.deno);

function denoListen(handed: HandedListener, options: ListenOptions, accept: (socket: Socket, listener: Listener) => SocketEvents): Promise<Listener> {
  if (handed.via.kind !== "ipc") return nodeListen(handed, options, accept);
  return handedListener(handed.via.index).then((handle) => listenOn({ handle }, handed, options, accept));
}

export const denoRuntime: Runtime = {
  ...host,
  ...handleSupervisor({ command: () => denoWorkerCommand(Deno, host.log), handOver: "ipc", bindFailure }),
  workerContext() {
    const ctx = readWorkerContext();
    // Before connectSupervisor(): the handles are the first messages on the channel.
    if (ctx?.listeners.some((l) => l.via.kind === "ipc")) collectListeners();
    return ctx;
  },
  connectSupervisor,
  listen: denoListen,
  onWorkerSignal,
  onUncaughtError: onGlobalUncaughtError,
  openLog,
};
