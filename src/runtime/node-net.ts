/**
 * Node's sockets: accept on a listener the supervisor handed over, and move bytes. Reads land
 * straight in the caller's buffer (a view into wasm memory) through `net.Socket`'s `onread`
 * option, which Node offers only to sockets it constructs itself; accepted sockets get it by
 * replacing the private `server._handle.onconnection` (tested on Node 20.20, 24.22 and 26.12).
 * `zeroCopyReads: false` (PRONGHORN_NO_ONREAD=1), or a Node without that private hook, selects
 * the plain path ('data' events with a fresh Buffer per read). TCP_NODELAY is set on every
 * accepted TCP socket that writes more than once (see #noDelay).
 */
import net from "node:net";
import type { HandedListener, Listener, ListenOptions, RemoteAddr, Socket, SocketEvents } from "./runtime.js";

type Accept = (socket: Socket, listener: Listener) => SocketEvents;

/** The private server-handle hook used by Hack A (lib/net.js `onconnection(err, clientHandle)`). */
interface ServerHandle {
  onconnection?: (err: number, clientHandle: unknown) => void;
}

// Errors (ECONNRESET, EPIPE) are always followed by 'close', which is what http/ acts on.
function onError(): void {}

const NOOP_EVENTS: SocketEvents = { data() {}, drain() {}, end() {}, close() {} };

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

  constructor(sock: net.Socket | null, unix: boolean) {
    this.#sock = sock as net.Socket;
    this.#unix = unix;
    this.#nagle = !unix;
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

function wire(wrapped: NodeSocket, sock: net.Socket, listener: Listener, accept: Accept, viaOnread: boolean): void {
  if (!viaOnread) sock.on("data", (chunk: Uint8Array) => wrapped.events.data(chunk));
  sock.on("end", () => wrapped.events.end());
  sock.on("drain", () => wrapped.events.drain());
  sock.on("close", () => {
    const events = wrapped.events;
    wrapped.events = NOOP_EVENTS;
    events.close();
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

/** Accept on `handed`, calling `accept` for each connection. */
export async function nodeListen(handed: HandedListener, options: ListenOptions, accept: Accept): Promise<Listener> {
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: false });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listenArgs(handed, options.backlog), () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", () => {}); // accept(2) errors (EMFILE) must not kill the worker
  const listener: Listener = {
    url: handed.url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const unix = handed.url.startsWith("unix:");
  const readBuffer = options.readBuffer;
  // `_handle` is private: see the file comment for why, and the fallback when it is absent.
  const handle = (server as unknown as { _handle?: ServerHandle })._handle;
  if (readBuffer !== undefined && options.zeroCopyReads && handle && typeof handle.onconnection === "function") {
    handle.onconnection = (err: number, clientHandle: unknown): void => {
      if (err !== 0 && err !== undefined) return;
      const wrapped = new NodeSocket(null, unix);
      const onread = {
        buffer: readBuffer,
        callback: (nread: number, buf: Uint8Array): void => wrapped.events.data(buf.subarray(0, nread)),
      };
      // net.Socket's constructor accepts `handle` and `onread` together; it then calls
      // useUserBuffer() on the handle, so libuv reads into readBuffer (lib/net.js initSocketHandle).
      const sock = new net.Socket({
        handle: clientHandle, readable: true, writable: true, allowHalfOpen: true, onread,
      } as net.SocketConstructorOpts);
      wrapped.attach(sock);
      wire(wrapped, sock, listener, accept, true);
    };
  } else {
    server.on("connection", (sock: net.Socket) => wire(new NodeSocket(sock, unix), sock, listener, accept, false));
  }
  return listener;
}
