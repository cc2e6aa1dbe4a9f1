/**
 * The runtime-abstraction layer: everything pronghorn needs from Node, Bun or Deno, and nothing
 * more. Only files under src/runtime/ implement it or touch `node:net`, `node:child_process`,
 * `Bun.*` or `Deno.*`; http/ sees only `Socket`/`SocketEvents` and a `Clock`, the supervisor only
 * `SupervisorRuntime`, the worker only `WorkerRuntime`. Each implementation is tied to this
 * interface by an annotation (`export const bunRuntime: Runtime = ...`), so the compiler checks
 * every runtime against the same shape.
 */

export type RuntimeName = "node" | "bun" | "deno";

/** The peer of a connection, in the shape Deno's ServeHandlerInfo.remoteAddr has. */
export interface RemoteAddr {
  transport: "tcp" | "unix";
  hostname: string;
  port: number;
}

/** Where to listen, as the user (or Server::Starter, or systemd) names it. `fd` adopts an
 *  already-listening socket inherited by the supervisor. */
export type ListenTarget =
  | { kind: "tcp"; host: string; port: number }
  | { kind: "unix"; path: string }
  | { kind: "fd"; fd: number; name: string };

// ---------------------------------------------------------------------------------------------
// Time: a monotonic clock and timers, the only time source of http/ and the supervisor.
// ---------------------------------------------------------------------------------------------

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds on a monotonic clock (only differences mean anything). */
  now(): number;
  /** Run `fn` once after `ms`. */
  setTimer(ms: number, fn: () => void): Timer;
  /** Run `fn` every `ms` until cancelled. Never keeps the process alive by itself. */
  every(ms: number, fn: () => void): Timer;
}

// ---------------------------------------------------------------------------------------------
// Sockets: one accepted connection, as the HTTP layer sees it.
// ---------------------------------------------------------------------------------------------

/** What the HTTP layer does with one connection's events; returned by the accept callback. */
export interface SocketEvents {
  /** Bytes arrived. `bytes` is valid only during the call: it may be a view into a buffer the
   *  runtime reuses (on Node, wasm memory itself). Copy what must outlive the call. */
  data(bytes: Uint8Array): void;
  /** Everything written so far has been handed to the kernel: writes may continue (the
   *  runtime's own name for this is usually "drain"). */
  writable(): void;
  /** The peer closed its sending side (EOF). */
  end(): void;
  /** The socket is gone (destroyed, errored, or closed on both sides); no more events follow. */
  closed(): void;
}

export interface Socket {
  readonly remote: RemoteAddr;
  /** true when data() delivers views into ListenOptions.readBuffer (zero-copy reads), which
   *  http/ parses where they lie. false when every chunk is the runtime's own: http/ then never
   *  asks a chunk for its ArrayBuffer (on Bun that alone allocates and copies the chunk). */
  readonly readsIntoBuffer: boolean;
  /** Queue bytes for writing (the caller must not reuse `data` afterwards). A string is written
   *  as UTF-8: http/ passes ASCII response heads, alone or followed by a UTF-8 body. Returns
   *  false when the kernel did not take everything: wait for `writable` before writing more. The
   *  runtime keeps what the kernel did not take and sends it in order. */
  write(data: Uint8Array | string): boolean;
  /** Write several pieces with one syscall where the runtime allows (writev(2)); same ownership
   *  and return value as write(). */
  writev(chunks: readonly (Uint8Array | string)[]): boolean;
  /** Stop / restart `data` events (request-body backpressure). */
  pause(): void;
  resume(): void;
  /** Flush queued writes, then send FIN and close. */
  end(): void;
  /** Close at once, dropping queued writes. */
  destroy(): void;
  /** Close at once with a TCP reset (RST), so the peer cannot mistake a cut response for a
   *  whole one. Where a socket kind has no reset (unix), the same as destroy(). */
  reset(): void;
}

export interface ListenOptions {
  backlog: number;
  /** A buffer the runtime may read socket bytes straight into (zero-copy into wasm memory where
   *  the runtime allows it). `data` then receives subarrays of it. */
  readBuffer?: Uint8Array;
  /** false: never read into readBuffer, use the runtime's plain read path (PRONGHORN_NO_ONREAD=1). */
  zeroCopyReads: boolean;
  /** false: keep the runtime's socket object around each connection where the server could
   *  drive the OS handle directly (Node; PRONGHORN_NO_DIRECT_HANDLE=1). */
  directHandles: boolean;
}

export interface Listener {
  /** Where clients reach it, as printed on start: `http://0.0.0.0:5000/`, `unix:/tmp/app.sock`. */
  readonly url: string;
  /** Stop accepting. Accepted connections are left alone; the socket itself stays open in other
   *  processes holding it (closing our copy is never a shutdown(2) of the shared socket). */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Processes: the supervisor's half and the worker's half.
// ---------------------------------------------------------------------------------------------

export type Signal = "SIGTERM" | "SIGINT" | "SIGQUIT" | "SIGHUP" | "SIGUSR1" | "SIGUSR2" | "SIGKILL";

/** A listening socket as the supervisor holds it: bound (or inherited) and never polled, so it
 *  never races the workers for connections. */
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

/** A listening socket as it reaches a worker. How it travels is the runtime's choice: an fd
 *  inherited at spawn, a handle sent over the IPC channel, or (where a runtime can do nothing
 *  better) a fresh SO_REUSEPORT listener on the same address. The worker passes it back to its
 *  runtime's listen() unopened; it must survive JSON. */
export interface HandedListener {
  /** As printed on start (the supervisor's BoundListener.url). */
  readonly url: string;
  readonly via:
    | { kind: "fd"; fd: number }
    | { kind: "ipc"; index: number }
    | { kind: "reuse-port"; target: ListenTarget };
}

/** Worker -> supervisor. */
export type WorkerMessage =
  | { type: "ready" }
  /** Stopped accepting (quota, retire(), a signal, an error storm): spawn the replacement.
   *  `signal`: the worker retires on a signal sent to it, which may have gone to the whole
   *  process group (Ctrl-C, `kill -TERM -PGID`, systemd's KillMode=control-group) and so to the
   *  supervisor too. `errors`: it retires after that many uncaught errors (unhealthy). */
  | { type: "retiring"; reason: string; signal?: Signal; errors?: number }
  /** Asks for every live worker's counters (a status page); answered by a "status" with `ask`. */
  | { type: "status"; ask: number }
  /** Answers the supervisor's "counters" ask: this worker's counters, opaque to the supervisor. */
  | { type: "counters"; ask: number; counters: unknown };

/** Every live worker as the supervisor knows it, with the counters each last reported. */
export interface ServerStatus {
  pid: number;
  /** Since the supervisor started. */
  uptimeMs: number;
  /** The current generation (1, then one more per HUP). */
  generation: number;
  workers: {
    pid: number;
    id: number;
    generation: number;
    /** Told to stop, or said it stops. */
    retiring: boolean;
    /** It answered this ask; false: `counters` are the last it reported (undefined if none). */
    answered: boolean;
    counters: unknown;
  }[];
}

/** Supervisor -> worker: "stop" is graceful and idempotent; "stop-now" closes every connection;
 *  "counters" asks for the worker's counters; "status" answers its ask; "reopen-logs" reopens
 *  its log files (USR2, after logrotate). */
export type SupervisorMessage =
  | { type: "stop" }
  | { type: "stop-now" }
  | { type: "counters"; ask: number }
  | { type: "status"; ask: number; status: ServerStatus }
  | { type: "reopen-logs" };

export interface WorkerSpec {
  /** Slot number, 1-based, reused by a replacement. */
  id: number;
  generation: number;
  listeners: readonly BoundListener[];
  /** Handed to the worker unchanged (its Config); must survive JSON. */
  payload: unknown;
}

/** What a worker learns about itself at start. */
export interface WorkerContext {
  id: number;
  generation: number;
  listeners: HandedListener[];
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

/** What both halves need: who we are, time, a log line, the exit. */
export interface Host extends Clock {
  readonly name: RuntimeName;
  /** The runtime's own name and version, as `--version` and the startup line show it:
   *  `node 26.12.1`, `bun 1.4.5`, `deno 2.9.6` (never a Node-compat version). */
  readonly version: string;
  readonly pid: number;
  /** One line to stderr. */
  log(line: string): void;
  exit(code: number): void;
}

export interface SupervisorRuntime extends Host {
  /** Bind every tcp/unix target (replacing a stale unix socket file) or adopt every fd target,
   *  without polling. Throws one-line errors (`pronghorn: cannot listen on ...`). */
  bindListeners(targets: readonly ListenTarget[]): Promise<BoundListener[]>;
  /** Start a worker on this runtime, re-running this process's entry script, with the
   *  listeners handed over and an IPC channel. */
  spawnWorker(spec: WorkerSpec, events: WorkerEvents): WorkerProcess;
  /** Route SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1 and SIGUSR2 to `handler` (replacing default actions). */
  onSignal(handler: (signal: Signal) => void): void;
}

export interface WorkerRuntime extends Host {
  /** This process's worker context, or undefined in a supervisor (or a plain process). */
  workerContext(): WorkerContext | undefined;
  /** Listen to the supervisor; `gone` fires when it died. Returns the way to send to it;
   *  `sent` runs once the message is out (or could not go: the supervisor is gone). */
  connectSupervisor(events: { message(m: SupervisorMessage): void; gone(): void }): (m: WorkerMessage, sent?: () => void) => void;
  /** Accept on a listener the supervisor handed over. */
  listen(
    handed: HandedListener,
    options: ListenOptions,
    accept: (socket: Socket, listener: Listener) => SocketEvents,
  ): Promise<Listener>;
  /** Signals sent to this worker directly (TERM, INT, QUIT, and USR2 to reopen its logs); HUP and
   *  USR1 are ignored here. */
  onWorkerSignal(handler: (signal: Signal) => void): void;
  /** Errors nobody caught: an exception thrown outside any promise chain (an app's timer, an
   *  abort listener the runtime dispatches synchronously) or a rejection nobody handled. Each
   *  goes to `handler` instead of ending the process, which lives on. */
  onUncaughtError(handler: (error: unknown, kind: "exception" | "rejection") => void): void;
  /** A line sink appending to FILE (`-` = stderr), batched per tick and written without
   *  blocking the event loop, flushed on exit; reopen() reopens FILE (after logrotate). */
  openLog(path: string): LogSink;
  /** The string or bytes a platform Response was made from, read without its stream where the
   *  runtime's Response allows it (undefined: read the stream). */
  platformBody?(res: Response): string | Uint8Array | null | undefined;
}

export interface LogSink {
  write(line: string): void;
  reopen(): void;
}

export interface Runtime extends SupervisorRuntime, WorkerRuntime {}
