/**
 * HttpServer: what a worker runs. It adopts connections the runtime accepts (accept() returns
 * the Connection as their SocketEvents), owns the read buffer the runtime reads into (a view into
 * wasm memory, so heads are parsed where they land), one sweeper timer for every connection's
 * timeouts, and the graceful stop. It implements the server half of the app contract
 * (app-contract.ts: ServeInfo) and re-exports its types with HttpOptions for the worker. Knows
 * nothing of processes: the worker wires hooks and logs.
 */
import type { Clock, Listener, RemoteAddr, Socket, SocketEvents, Timer } from "../runtime/runtime.js";
import { Connection, STOP_IDLE_MS, type ConnectionHost } from "./connection.js";
import { installFastResponse } from "./fast-response.js";
import { requestParser, reserve, wasmBytes, type RequestParser } from "./parser.js";
import type { FetchHandler, ServeInfo } from "./app-contract.js";
import type { HttpHooks, HttpOptions } from "./server-options.js";

export type { FetchHandler, ServeInfo } from "./app-contract.js";
export type { HttpHooks, HttpOptions } from "./server-options.js";

/** Node's onread with a caller's buffer reads at most the buffer's length per call (libuv's
 *  64 KiB applies only to the buffers it allocates itself). 64 KiB takes a default 16 KiB head
 *  and the bytes pipelined after it in one read, and is a fixed share of the 16 MiB wasm memory. */
const READ_BUFFER_BYTES = 64 * 1024;

class ConnectionInfo implements ServeInfo {
  #conn: Connection;
  #server: HttpServer;

  constructor(conn: Connection, server: HttpServer) {
    this.#conn = conn;
    this.#server = server;
  }

  get remoteAddr(): RemoteAddr {
    return this.#conn.remote;
  }

  requestIP(request: Request): { address: string; family: "IPv4" | "IPv6"; port: number } | null {
    void request; // one connection serves one request at a time, so the peer is this connection's
    const r = this.#conn.remote;
    if (r.transport !== "tcp") return null;
    return { address: r.hostname, family: r.hostname.includes(":") ? "IPv6" : "IPv4", port: r.port };
  }

  get worker(): { id: number; pid: number; generation: number } {
    return this.#server.options.worker;
  }

  retire(): void {
    this.#server.retire();
  }

  informational(status: number, headers?: HeadersInit): void {
    this.#conn.informational(status, headers);
  }
}

export class HttpServer implements ConnectionHost {
  readonly fetch: FetchHandler;
  readonly options: HttpOptions;
  readonly hooks: HttpHooks;
  /** The read buffer to pass as ListenOptions.readBuffer (a view into wasm memory). */
  readonly readBuffer: Uint8Array;
  /** The open connections, each at its Connection.slot (removal swaps the last one in). Not a
   *  Set: under Connection: close churn a Set of connections made closed connections outlive
   *  scavenges until the next full GC (a raw net server with a Set: 9-15% of the young generation
   *  survived, with this array 1-7%); the array cut close-mode CPU per request by 5-9%
   *  (bench/profile.md, "Young-generation survival"). */
  #conns: Connection[] = [];
  #hosts = new Map<Listener, string>();
  #clock: Clock;
  #now: number;
  #tickMs: number;
  #sweeper: Timer | null = null;
  #stopping = false;
  #allClosed: (() => void) | null = null;
  #stopped: Promise<void> | null = null;
  #retired = false;
  /** The process's request-head parser, which every connection uses. */
  readonly parser: RequestParser;

  constructor(fetch: FetchHandler, options: HttpOptions, hooks: HttpHooks) {
    this.fetch = fetch;
    this.options = options;
    this.hooks = hooks;
    this.#clock = options.clock;
    this.#now = options.clock.now();
    if (options.fastResponse !== false) installFastResponse();
    this.parser = requestParser(options.wasmSimd === false ? "scalar" : "simd");
    const ptr = reserve(READ_BUFFER_BYTES);
    this.readBuffer = wasmBytes().subarray(ptr, ptr + READ_BUFFER_BYTES);
    // A quarter of the shortest timeout, within [10 ms, 250 ms]: timeouts fire within one tick
    // late, and a graceful stop's STOP_IDLE_MS is among them.
    const shortest = Math.min(...[options.timeoutMs, options.keepaliveTimeoutMs, options.headerTimeoutMs, STOP_IDLE_MS].filter((t) => t > 0));
    this.#tickMs = Math.max(10, Math.floor(shortest / 4));
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  get connectionCount(): number {
    return this.#conns.length;
  }

  /** The accept callback for Runtime.listen(): adopt one connection. */
  accept(socket: Socket, listener: Listener): SocketEvents {
    // The coarse clock stands still while no connection is open: restart it before the new
    // connection takes its first deadline from it, or an idle spell would count against it.
    if (this.#sweeper === null) this.#startSweeper();
    const conn = new Connection(this, socket, listener, this.readBuffer.buffer);
    conn.slot = this.#conns.length;
    this.#conns.push(conn);
    if (this.#stopping) conn.stopGracefully();
    return conn;
  }

  infoFor(conn: Connection): ServeInfo {
    return conn.info ??= new ConnectionInfo(conn, this);
  }

  defaultHost(listener: Listener): string {
    let host = this.#hosts.get(listener);
    if (host === undefined) {
      host = listener.url.startsWith("http") ? new URL(listener.url).host : "localhost";
      this.#hosts.set(listener, host);
    }
    return host;
  }

  // The coarse clock is at most one tick old, so one tick is added: a wait is never cut short.
  deadline(ms: number): number {
    return this.#now + ms + this.#tickMs;
  }

  removed(conn: Connection): void {
    const conns = this.#conns;
    const i = conn.slot;
    if (i < 0 || conns[i] !== conn) return;
    const last = conns.pop()!;
    if (last !== conn) {
      conns[i] = last;
      last.slot = i;
    }
    conn.slot = -1;
    if (conns.length === 0) {
      if (this.#sweeper !== null) {
        this.#sweeper.cancel();
        this.#sweeper = null;
      }
      this.#allClosed?.();
    }
  }

  log(line: string): void {
    (this.options.errorLog ?? console.error)(line);
  }

  retire(): void {
    if (this.#retired) return;
    this.#retired = true;
    this.hooks.onRetire();
  }

  /** The graceful stop: every response from now on closes its connection, idle connections
   *  close after STOP_IDLE_MS of silence. Resolves when no connection is left. Idempotent. */
  stopGracefully(): Promise<void> {
    if (this.#stopped !== null) return this.#stopped;
    this.#stopping = true;
    this.#stopped = new Promise<void>((resolve) => {
      this.#allClosed = resolve;
    });
    for (const conn of this.#conns.slice()) conn.stopGracefully();
    if (this.#conns.length === 0) this.#allClosed!();
    return this.#stopped;
  }

  /** Close every connection now (second TERM / deadline). */
  destroyAll(): void {
    for (const conn of this.#conns.slice()) conn.destroy();
  }

  #startSweeper(): void {
    this.#now = this.#clock.now();
    this.#sweeper = this.#clock.every(this.#tickMs, () => {
      const now = this.#now = this.#clock.now();
      // Backwards: a connection that closes at once moves the last one, already seen, into its slot.
      const conns = this.#conns;
      for (let i = conns.length - 1; i >= 0; i--) {
        const conn = conns[i];
        if (conn !== undefined && conn.deadline !== 0 && conn.deadline <= now) conn.timedOut();
      }
    });
  }
}
