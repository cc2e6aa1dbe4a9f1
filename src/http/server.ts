/**
 * HttpServer: what a worker runs. It adopts connections the runtime accepts (accept() returns
 * the Connection as their SocketEvents), owns the read buffer the runtime reads into (a view into
 * wasm memory, so heads are parsed where they land), one sweeper timer for every connection's
 * timeouts, and graceful drain. The app contract (FetchHandler, ServeInfo) is defined here;
 * see the README, "The app". Knows nothing of processes: the worker wires hooks and logs.
 */
import type { Clock, Listener, RemoteAddr, Socket, SocketEvents, Timer } from "../runtime/runtime.js";
import { Connection, DRAIN_IDLE_MS } from "./connection.js";
import { installFastResponse } from "./fast-response.js";
import { PronghornRequest } from "./request.js";
import { reserve, useParserBuild, wasmBytes } from "./parser.js";
import { usePlatformBody } from "./response.js";

/** The app: `export default { fetch(request, info) }` or a bare function of the same shape. */
export type FetchHandler = (request: Request, info: ServeInfo) => Response | Promise<Response>;

/**
 * The second argument of `fetch`: the connection's peer (the shape Deno passes, so Hono's
 * `getConnInfo` works), Bun's `requestIP`, which worker serves it, and Gazelle's harakiri and
 * informational responses.
 *
 * @example
 * export default {
 *   fetch(request, info) {
 *     info.informational(103, { link: "</app.css>; rel=preload; as=style" });
 *     if (request.url.endsWith("/leak")) info.retire(); // this worker exits after the response
 *     return new Response(`hello ${info.remoteAddr.hostname} from worker ${info.worker.id}`);
 *   },
 * };
 */
export interface ServeInfo {
  /** The peer: `{ transport: "tcp", hostname, port }`, or `{ transport: "unix", hostname: "", port: 0 }`. */
  remoteAddr: RemoteAddr;
  /** The peer's IP as Bun reports it; null on a unix socket. */
  requestIP(request: Request): { address: string; family: "IPv4" | "IPv6"; port: number } | null;
  worker: { id: number; pid: number; generation: number };
  /** Gazelle's psgix.harakiri: this worker stops accepting and exits after its in-flight responses. */
  retire(): void;
  /** Send a 1xx response (e.g. 103 Early Hints) now, before the final one. Ignored for HTTP/1.0 clients. */
  informational(status: number, headers?: HeadersInit): void;
}

export interface HttpOptions {
  /** --timeout: the longest wait for one read (request body) or one write to drain. */
  timeoutMs: number;
  /** --keepalive-timeout: idle time allowed between requests; 0 closes after every response. */
  keepaliveTimeoutMs: number;
  /** --max-keepalive-reqs: requests per connection; 0 = no limit. */
  maxKeepaliveReqs: number;
  /** --header-timeout: the whole request head must arrive within this. */
  headerTimeoutMs: number;
  /** --max-header-size: longer heads get 431 (414 when the request line alone is longer). */
  maxHeaderSize: number;
  /** --max-body-size: larger bodies get 413; 0 = no limit. */
  maxBodySize: number;
  /** -E development: stacks in 500 responses. */
  development: boolean;
  /** Combined log format lines, no trailing newline. */
  accessLog?: (line: string) => void;
  /** Error lines (protocol errors with the peer, app failures); default console.error. */
  errorLog?: (line: string) => void;
  /** Install the lightweight Response (fast-response.ts) as globalThis.Response; default true. */
  fastResponse?: boolean;
  /** Load the SIMD128 parser build (default true); false loads the scalar one. */
  wasmSimd?: boolean;
  /** The runtime's way to see a platform Response's body source without its stream. */
  platformBody?: (res: Response) => string | Uint8Array | null | undefined;
  /** The runtime's monotonic clock and timers (the sweeper and every timeout). */
  clock: Clock;
  worker: { id: number; pid: number; generation: number };
}

export interface HttpHooks {
  /** A request was parsed and handed to the app (counts toward --max-reqs-per-child). */
  onRequest(): void;
  /** The app called info.retire(). */
  onRetire(): void;
}

/** What a Connection needs from its server. */
export interface ConnectionHost {
  readonly fetch: FetchHandler;
  readonly options: HttpOptions;
  readonly hooks: HttpHooks;
  readonly draining: boolean;
  infoFor(conn: Connection): ServeInfo;
  defaultHost(listener: Listener): string;
  /** The absolute coarse-clock deadline for a wait of `ms`. */
  deadline(ms: number): number;
  removed(conn: Connection): void;
  log(line: string): void;
}

/** libuv reads at most 64 KiB per call; a larger buffer would never fill. */
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
  #conns = new Set<Connection>();
  #hosts = new Map<Listener, string>();
  #clock: Clock;
  #now: number;
  #tickMs: number;
  #sweeper: Timer | null = null;
  #draining = false;
  #drained: (() => void) | null = null;
  #drainPromise: Promise<void> | null = null;
  #retired = false;

  constructor(fetch: FetchHandler, options: HttpOptions, hooks: HttpHooks) {
    this.fetch = fetch;
    this.options = options;
    this.hooks = hooks;
    this.#clock = options.clock;
    this.#now = options.clock.now();
    if (options.fastResponse !== false) installFastResponse();
    usePlatformBody(options.platformBody);
    if (options.wasmSimd === false) useParserBuild("scalar");
    const ptr = reserve(READ_BUFFER_BYTES);
    this.readBuffer = wasmBytes().subarray(ptr, ptr + READ_BUFFER_BYTES);
    // A quarter of the shortest timeout, within [10 ms, 250 ms]: timeouts fire within one tick
    // late, and a drain's DRAIN_IDLE_MS is among them.
    const shortest = Math.min(...[options.timeoutMs, options.keepaliveTimeoutMs, options.headerTimeoutMs, DRAIN_IDLE_MS].filter((t) => t > 0));
    this.#tickMs = Math.max(10, Math.floor(shortest / 4));
  }

  get draining(): boolean {
    return this.#draining;
  }

  get connectionCount(): number {
    return this.#conns.size;
  }

  /** The accept callback for Runtime.listen(): adopt one connection. */
  accept(socket: Socket, listener: Listener): SocketEvents {
    // The coarse clock stands still while no connection is open: restart it before the new
    // connection takes its first deadline from it, or an idle spell would count against it.
    if (this.#sweeper === null) this.#startSweeper();
    const conn = new Connection(this, socket, listener, this.readBuffer.buffer);
    this.#conns.add(conn);
    if (this.#draining) conn.closeIfIdle();
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
    this.#conns.delete(conn);
    if (this.#conns.size === 0) {
      if (this.#sweeper !== null) {
        this.#sweeper.cancel();
        this.#sweeper = null;
      }
      this.#drained?.();
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

  /** Graceful: every response from now on closes its connection, idle connections close now.
   *  Resolves when no connection is left. Idempotent. */
  drain(): Promise<void> {
    if (this.#drainPromise !== null) return this.#drainPromise;
    this.#draining = true;
    this.#drainPromise = new Promise<void>((resolve) => {
      this.#drained = resolve;
    });
    for (const conn of this.#conns) conn.closeIfIdle();
    if (this.#conns.size === 0) this.#drained!();
    return this.#drainPromise;
  }

  /** Close every connection now (second TERM / deadline). */
  destroyAll(): void {
    for (const conn of this.#conns) conn.destroy();
  }

  #startSweeper(): void {
    this.#now = this.#clock.now();
    this.#sweeper = this.#clock.every(this.#tickMs, () => {
      const now = this.#now = this.#clock.now();
      for (const conn of this.#conns) {
        if (conn.deadline !== 0 && conn.deadline <= now) conn.timedOut();
      }
    });
  }
}

export { PronghornRequest };
