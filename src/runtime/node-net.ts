/**
 * Node's sockets: accept on a listener the supervisor handed over, and move bytes. Reads land
 * straight in the caller's buffer (a view into wasm memory) through `net.Socket`'s `onread`
 * option, which Node offers only to sockets it constructs itself; accepted sockets get it by
 * replacing the private `server._handle.onconnection` (tested on Node 20.20, 24.22 and 26.12).
 * `zeroCopyReads: false` (PRONGHORN_NO_ONREAD=1), or a runtime without that private hook, selects
 * the plain path ('data' events with a fresh Buffer per read). TCP_NODELAY is set on every
 * accepted TCP socket that writes more than once (see #noDelay).
 *
 * Deno's node:net shares all of this (deno.ts): its hook is called without a client handle
 * (the shim accepts), so the hook accepts one itself; see zeroCopyClient().
 */
import net from "node:net";
import type { HandedListener, Listener, ListenOptions, RemoteAddr, Socket, SocketEvents } from "./runtime.js";
import type { DirectStreams } from "./node-handle.js";

type Accept = (socket: Socket, listener: Listener) => SocketEvents;

/** The private server-handle hook used by Hack A (lib/net.js `onconnection(err, clientHandle)`),
 *  and what Deno's shim adds: `accept(client)` into a handle made with `new constructor(0)`. */
interface ServerHandle {
  onconnection?: (err: number, clientHandle?: unknown) => void;
  accept?: (client: unknown) => number;
  constructor: new (type: number) => unknown;
}

/** A handle net.Socket can read into a user buffer: a libuv stream wrap (Node) or Deno's shim
 *  of one. Bun hands the hook a plain object, which is not. */
function isStreamHandle(h: unknown): boolean {
  const s = h as { readStart?: unknown; useUserBuffer?: unknown } | null | undefined;
  return typeof s?.readStart === "function" && typeof s.useUserBuffer === "function";
}

/**
 * For the replaced hook: the client handle to wrap with `onread`, or undefined when this runtime
 * gave none we can use, in which case `fallback` ran (the original hook: a plain net.Socket and
 * the server's 'connection' event). Node passes the accepted handle; Deno's shim passes none
 * and leaves the accept(2) to the hook, so it is done here into a new handle of the server's
 * own class (type 0 = a stream socket, TCP or pipe).
 */
export function zeroCopyClient(handle: ServerHandle, clientHandle: unknown, fallback: (client: unknown) => void): unknown {
  let client = clientHandle;
  if (client === undefined && typeof handle.accept === "function") {
    client = new handle.constructor(0);
    if (handle.accept(client) !== 0) return undefined; // EAGAIN (another worker won) or an error
    if (isStreamHandle(client)) return client;
    // Accepted but not wrappable with onread: a plain socket still serves it.
    fallback(new net.Socket({ handle: client, readable: true, writable: true, allowHalfOpen: true } as net.SocketConstructorOpts));
    return undefined;
  }
  if (isStreamHandle(client)) return client;
  fallback(client);
  return undefined;
}

// Errors (ECONNRESET, EPIPE) are always followed by 'close', which is what http/ acts on.
function onError(): void {}

const NOOP_EVENTS: SocketEvents = { data() {}, writable() {}, end() {}, closed() {} };

// The per-socket handlers are closures on purpose: a property of ours on each net.Socket
// (socket.pronghorn = wrapper) changed its hidden class and made Node's own stream code
// megamorphic; Connection: close throughput dropped by a third (perf: LoadIC_Miss in Duplex).
class NodeSocket implements Socket {
  events: SocketEvents = NOOP_EVENTS;
  #sock: net.Socket;
  #unix: boolean;
  #remote: RemoteAddr | null = null;
  /** TCP_NODELAY is still to be set (tcp only). */
  #nagle: boolean;

  readonly readsIntoBuffer: boolean;

  constructor(sock: net.Socket | null, unix: boolean, readsIntoBuffer: boolean) {
    this.#sock = sock as net.Socket;
    this.#unix = unix;
    this.#nagle = !unix;
    this.readsIntoBuffer = readsIntoBuffer;
  }

  /** For Hack A: the wrapper exists before the net.Socket whose onread callback needs it. */
  attach(sock: net.Socket): void {
    this.#sock = sock;
  }

  // TCP_NODELAY goes on before the second write, not at accept: Nagle holds a segment back
  // only while earlier data is unacknowledged, which the first write never has, and one
  // setsockopt(2) per connection was 10% of a Connection: close profile (hello world, wrk).
  #noDelay(): void {
    this.#nagle = false;
    this.#sock.setNoDelay(true);
  }

  // getpeername(2) only when someone asks (the access log, ServeInfo, an error line).
  get remote(): RemoteAddr {
    if (this.#remote !== null) return this.#remote;
    const s = this.#sock;
    this.#remote = this.#unix
      ? { transport: "unix", hostname: "", port: 0 }
      : { transport: "tcp", hostname: s.remoteAddress ?? "", port: s.remotePort ?? 0 };
    return this.#remote;
  }

  write(data: Uint8Array | string): boolean {
    const s = this.#sock;
    if (this.#nagle && s.bytesWritten > 0) this.#noDelay();
    return s.write(data);
  }

  writev(chunks: readonly (Uint8Array | string)[]): boolean {
    const s = this.#sock;
    if (this.#nagle && s.bytesWritten > 0) this.#noDelay();
    s.cork();
    for (let i = 0; i < chunks.length; i++) s.write(chunks[i]!);
    s.uncork();
    return !s.writableNeedDrain;
  }

  pause(): void {
    this.#sock.pause();
  }

  resume(): void {
    this.#sock.resume();
  }

  end(): void {
    this.#sock.end();
  }

  destroy(): void {
    this.#sock.destroy();
  }

  // RST instead of FIN (Node >= 16.17), so the peer sees an abort, not an end. Unix sockets
  // have no RST (resetAndDestroy() throws on them), and libuv refuses it once a FIN is queued
  // (uv_tcp_close_reset: EINVAL, leaving the handle open): both just close.
  reset(): void {
    const s = this.#sock;
    if (!this.#unix && !s.writableEnded && typeof s.resetAndDestroy === "function") s.resetAndDestroy();
    else s.destroy();
  }
}

function wire(wrapped: NodeSocket, sock: net.Socket, listener: Listener, accept: Accept): void {
  if (!wrapped.readsIntoBuffer) sock.on("data", (chunk: Uint8Array) => wrapped.events.data(chunk));
  sock.on("end", () => wrapped.events.end());
  sock.on("drain", () => wrapped.events.writable());
  sock.on("close", () => {
    const events = wrapped.events;
    wrapped.events = NOOP_EVENTS;
    events.closed();
  });
  sock.on("error", onError);
  wrapped.events = accept(wrapped, listener);
}

/** Where a handed listener is, as net.Server.listen() takes it. */
function listenArgs(handed: HandedListener, backlog: number): net.ListenOptions {
  const via = handed.via;
  if (via.kind === "fd") return { fd: via.fd, backlog } as net.ListenOptions;
  if (via.kind === "reuse-port" && via.target.kind === "tcp") {
    return { host: via.target.host, port: via.target.port, backlog, reusePort: true } as net.ListenOptions;
  }
  throw new Error(`pronghorn: this runtime cannot listen on ${handed.url} handed over as ${via.kind}`);
}

/** Accept on `handed`, calling `accept` for each connection; `direct`: drive accepted handles
 *  without a net.Socket (node-handle.ts) where it accepts them. */
export function nodeListen(handed: HandedListener, options: ListenOptions, accept: Accept, direct: DirectStreams | null = null): Promise<Listener> {
  return listenOn(listenArgs(handed, options.backlog), handed, options, accept, direct);
}

/** Accept on `where` (listen options with an fd, or a server handle received over IPC),
 *  calling `accept` for each connection. */
export async function listenOn(where: net.ListenOptions | { handle: object }, handed: HandedListener, options: ListenOptions, accept: Accept, direct: DirectStreams | null = null): Promise<Listener> {
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: false });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    const listening = () => {
      server.off("error", reject);
      resolve();
    };
    // The backlog goes apart, as listen()'s second argument: Node's listen({ fd, backlog }) and
    // Deno's { handle, backlog } ignore the one inside the options (node's lib/net.js takes an fd's
    // backlog from the arguments only), and an fd listened on with 511 would cap --backlog.
    if ("handle" in where && where.handle) server.listen(where.handle as net.ListenOptions, options.backlog, listening);
    else server.listen(where as net.ListenOptions, options.backlog, listening);
  });
  server.on("error", () => {}); // accept(2) errors (EMFILE) must not kill the worker
  // `_handle` is private: see the file comment for why, and the fallback when it is absent.
  const handle = (server as unknown as { _handle?: ServerHandle })._handle;
  const listener: Listener = {
    url: handed.url,
    close: () => {
      serveQueued();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const unix = handed.url.startsWith("unix:");
  const readBuffer = options.readBuffer;
  const plain = (sock: net.Socket) => wire(new NodeSocket(sock, unix, false), sock, listener, accept);
  server.on("connection", plain);
  let zeroCopy: ((client: unknown) => void) | undefined;
  // Deno's listener accepts ahead of JS, into a queue that `handle.accept()` takes from; closing
  // it drops what is still queued (the clients see a close, not a response). So a listener that
  // stops accepting first takes and serves every connection already accepted. (Node and Bun
  // have no such queue and no `accept` method.)
  const serveQueued = (): void => {
    if (typeof handle?.accept !== "function") return;
    for (;;) {
      const client = new handle.constructor(0);
      if (handle.accept(client) !== 0) return;
      if (zeroCopy && isStreamHandle(client)) zeroCopy(client);
      else plain(new net.Socket({ handle: client, readable: true, writable: true, allowHalfOpen: true } as net.SocketConstructorOpts));
    }
  };
  const original = handle?.onconnection;
  if (readBuffer !== undefined && options.zeroCopyReads && handle && typeof original === "function") {
    const fallback = (client: unknown): void => {
      if (client instanceof net.Socket) plain(client);
      else original.call(handle, 0, client);
    };
    handle.onconnection = (err: number, clientHandle?: unknown): void => {
      if (err !== 0 && err !== undefined) return;
      const client = zeroCopyClient(handle, clientHandle, fallback);
      if (client !== undefined) zeroCopy!(client);
    };
    zeroCopy = (client: unknown): void => {
      if (direct !== null && direct.accepts(client)) {
        const socket = direct.wrap(client, unix, readBuffer);
        socket.events = accept(socket, listener);
        socket.start();
        return;
      }
      const wrapped = new NodeSocket(null, unix, true);
      const onread = {
        buffer: readBuffer,
        callback: (nread: number, buf: Uint8Array): void => wrapped.events.data(buf.subarray(0, nread)),
      };
      // net.Socket's constructor accepts `handle` and `onread` together; it then calls
      // useUserBuffer() on the handle, so libuv reads into readBuffer (lib/net.js initSocketHandle).
      const sock = new net.Socket({
        handle: client, readable: true, writable: true, allowHalfOpen: true, onread,
      } as net.SocketConstructorOpts);
      wrapped.attach(sock);
      wire(wrapped, sock, listener, accept);
    };
  }
  return listener;
}
