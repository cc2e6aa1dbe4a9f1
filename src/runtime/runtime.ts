/**
 * The runtime-abstraction layer: everything pronghorn needs from Node, Bun or Deno, and nothing
 * more. Only files under src/runtime/ implement it or touch `node:net`, `node:child_process`,
 * `Bun.*` or `Deno.*`; http/ sees only `Socket`/`SocketEvents`, the supervisor only the process
 * half. Each implementation is tied to this interface by an annotation
 * (`export const nodeRuntime: Runtime = ...`), so the compiler checks every runtime against it.
 *
 * Two halves, owned separately: `NetRuntime` (listen and move bytes) and `ProcessRuntime`
 * (spawn workers, pass listening fds, signals, IPC, timers).
 */

export type RuntimeName = "node" | "bun" | "deno";

/** The peer of a connection, in the shape Deno's ServeHandlerInfo.remoteAddr has. */
export interface RemoteAddr {
  transport: "tcp" | "unix";
  hostname: string;
  port: number;
}

/** Where to listen. `fd` adopts an inherited listening socket (supervisor, Server::Starter, systemd). */
export type ListenTarget =
  | { kind: "tcp"; host: string; port: number }
  | { kind: "unix"; path: string }
  | { kind: "fd"; fd: number; name: string };

// ---------------------------------------------------------------------------------------------
// NetRuntime: accept connections and move bytes.
// ---------------------------------------------------------------------------------------------

/** What the HTTP layer does with one connection's events; returned by the accept callback. */
export interface SocketEvents {
  /** Bytes arrived. `bytes` is valid only during the call: it may be a view into a buffer the
   *  runtime reuses (on Node, wasm memory itself). Copy what must outlive the call. */
  data(bytes: Uint8Array): void;
  /** Everything written so far has been handed to the kernel. */
  drain(): void;
  /** The peer closed its sending side (EOF). */
  end(): void;
  /** The socket is gone (destroyed, errored, or closed on both sides); no more events follow. */
  close(): void;
}

/** One accepted connection, as the HTTP layer sees it. */
export interface Socket {
  readonly remote: RemoteAddr;
  /** Queue bytes for writing (the caller must not reuse `data` afterwards). A string is written
   *  as UTF-8: http/ passes ASCII response heads, alone or followed by a UTF-8 body, so one call
   *  makes one syscall with no copy on the JS side. Returns false when the kernel did not take
   *  everything: wait for `drain` before writing more. */
  write(data: Uint8Array | string): boolean;
  /** Write several pieces with one syscall where the runtime allows (Node: cork/uncork, i.e.
   *  writev(2)); same ownership and return value as write(). */
  writev(chunks: readonly (Uint8Array | string)[]): boolean;
  /** Stop / restart `data` events (request-body backpressure). */
  pause(): void;
  resume(): void;
  /** Flush queued writes, then send FIN and close. */
  end(): void;
  /** Close at once, dropping queued writes. */
  destroy(): void;
  /** Close at once with a TCP reset (RST), so the peer cannot mistake a cut response for a
   *  whole one. Optional: where a runtime or socket kind has no reset, callers destroy(). */
  reset?(): void;
}

export interface ListenOptions {
  backlog: number;
  /** A buffer the runtime may read socket bytes straight into (zero-copy into wasm memory where
   *  the runtime allows it, see REFERENCE.md part 3 §2.1). `data` then receives subarrays of it. */
  readBuffer?: Uint8Array;
}

export interface Listener {
  readonly target: ListenTarget;
  /** Where clients reach it, as printed on start: `http://0.0.0.0:5000/`, `unix:/tmp/app.sock`. */
  readonly url: string;
  /** The bound TCP port (useful with port 0), or 0 for unix sockets. */
  readonly port: number;
  /** Stop accepting. Accepted connections are left alone; the socket itself stays open in other
   *  processes holding it (closing our fd is never a shutdown(2) of the shared socket). */
  close(): Promise<void>;
}

export interface NetRuntime {
  listen(
    target: ListenTarget,
    options: ListenOptions,
    accept: (socket: Socket, listener: Listener) => SocketEvents,
  ): Promise<Listener>;
}

// ---------------------------------------------------------------------------------------------
// ProcessRuntime: the supervisor's and the worker's process-level needs. Extended by the
// supervisor's owner as needed; the supervisor's policy depends only on this interface, so a
// fake implementation can drive it in unit tests.
// ---------------------------------------------------------------------------------------------

export type Signal = "SIGTERM" | "SIGINT" | "SIGQUIT" | "SIGHUP" | "SIGUSR1" | "SIGKILL";

/** A listening socket as the supervisor holds it: bound (or inherited) and never polled, so it
 *  never races the workers for connections. Its fd is what workers inherit. */
export interface BoundListener {
  readonly target: ListenTarget;
  /** As printed on start: `http://0.0.0.0:5000/`, `http://[::1]:8080/`, `unix:/tmp/app.sock`. */
  readonly url: string;
  /** Inherited from Server::Starter or systemd: never closed early, never unlinked by us. */
  readonly inherited: boolean;
  /** Close the supervisor's copy (workers keep theirs; never a shutdown(2)) and remove a unix
   *  socket file we created. Idempotent. */
  close(): void;
}

/** Worker -> supervisor. */
export type WorkerMessage =
  | { type: "ready" }
  /** Stopped accepting (quota, retire(), a signal): spawn the replacement now. */
  | { type: "retiring"; reason: string };

/** Supervisor -> worker: "stop" is graceful and idempotent; "stop-now" closes every connection. */
export type SupervisorMessage = { type: "stop" } | { type: "stop-now" };

export interface WorkerSpec {
  /** Slot number, 1-based, reused by a replacement. */
  id: number;
  generation: number;
  listeners: readonly BoundListener[];
  /** Handed to the worker unchanged (its Config); must survive JSON. */
  payload: unknown;
}

/** What a worker learns about itself at start (from its spawn environment). */
export interface WorkerContext {
  id: number;
  generation: number;
  /** The inherited listening sockets, numbered as the worker sees them (3, 4, ...). */
  listeners: { fd: number; name: string }[];
  payload: unknown;
}

export interface WorkerProcess {
  readonly pid: number;
  send(message: SupervisorMessage): void;
  kill(signal: Signal): void;
}

export interface WorkerEvents {
  message(message: WorkerMessage): void;
  /** `signal` is a name such as "SIGSEGV" when the worker died of a signal. */
  exit(code: number | null, signal: string | null): void;
}

export interface Timer {
  cancel(): void;
}

export interface ProcessRuntime {
  readonly pid: number;
  // --- supervisor side ---
  /** Bind every tcp/unix target (replacing a stale unix socket file) or adopt every fd target,
   *  without listening. Throws one-line errors (`pronghorn: cannot listen on ...`). */
  bindListeners(targets: readonly ListenTarget[]): Promise<BoundListener[]>;
  /** Start a worker on this runtime, re-running this process's entry script, with the
   *  listeners as fds 3, 4, ... and an IPC channel. */
  spawnWorker(spec: WorkerSpec, events: WorkerEvents): WorkerProcess;
  /** Route SIGTERM, SIGINT, SIGQUIT, SIGHUP and SIGUSR1 to `handler` (replacing default actions). */
  onSignal(handler: (signal: Signal) => void): void;
  now(): number;
  setTimer(ms: number, fn: () => void): Timer;
  /** One line to stderr. */
  log(line: string): void;
  exit(code: number): void;
  // --- worker side ---
  /** This process's worker context, or undefined in a supervisor (or a plain process). */
  workerContext(): WorkerContext | undefined;
  /** Listen to the supervisor; `gone` fires when it died. Returns the way to send to it. */
  connectSupervisor(events: { message(m: SupervisorMessage): void; gone(): void }): (m: WorkerMessage) => void;
  /** Signals sent to this worker directly (TERM, INT, QUIT); HUP and USR1 are ignored here. */
  onWorkerSignal(handler: (signal: Signal) => void): void;
  /** A line sink appending to FILE (`-` = stderr), batched per tick, flushed on exit. */
  openLog(path: string): (line: string) => void;
}

export interface Runtime extends NetRuntime, ProcessRuntime {
  readonly name: RuntimeName;
}
