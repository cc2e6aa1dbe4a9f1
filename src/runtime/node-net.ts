/**
 * Node's NetRuntime: listen on tcp (v4/v6), unix or an inherited fd, accept connections, and move
 * bytes. The only file that touches `node:net`. Reads land straight in the caller's buffer (a
 * view into wasm memory) through `net.Socket`'s `onread` option, which Node offers only to
 * sockets it constructs itself; accepted sockets get it by replacing the private
 * `server._handle.onconnection` (REFERENCE.md part 3 §2.1, "Hack A", tested on Node 20.20 and
 * 22). PRONGHORN_NO_ONREAD=1, or a Node without that private hook, selects the plain path
 * ('data' events with a fresh Buffer per read). TCP_NODELAY is set on every accepted TCP socket.
 */
import net from "node:net";
import type { Listener, ListenOptions, ListenTarget, NetRuntime, RemoteAddr, Socket, SocketEvents } from "./runtime.js";

type Accept = (socket: Socket, listener: Listener) => SocketEvents;

/** The net.Socket fields we hang our wrapper on, so the shared handlers below need no closures. */
interface RawSocket extends net.Socket {
  pronghorn?: NodeSocket;
}

/** The private server-handle hook used by Hack A (lib/net.js `onconnection(err, clientHandle)`). */
interface ServerHandle {
  onconnection?: (err: number, clientHandle: unknown) => void;
}

function onReadInto(this: RawSocket, nread: number, buf: Uint8Array): void {
  this.pronghorn?.events.data(buf.subarray(0, nread));
}
function onData(this: RawSocket, chunk: Uint8Array): void {
  this.pronghorn?.events.data(chunk);
}
function onEnd(this: RawSocket): void {
  this.pronghorn?.events.end();
}
function onDrain(this: RawSocket): void {
  this.pronghorn?.events.drain();
}
function onClose(this: RawSocket): void {
  const s = this.pronghorn;
  if (s === undefined) return;
  this.pronghorn = undefined;
  s.events.close();
}
// Errors (ECONNRESET, EPIPE) are always followed by 'close', which is what http/ acts on.
function onError(): void {}

const NOOP_EVENTS: SocketEvents = { data() {}, drain() {}, end() {}, close() {} };

class NodeSocket implements Socket {
  events: SocketEvents = NOOP_EVENTS;
  #sock: RawSocket;
  #unix: boolean;
  #remote: RemoteAddr | null = null;

  constructor(sock: RawSocket, unix: boolean) {
    this.#sock = sock;
    this.#unix = unix;
    sock.pronghorn = this;
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
    return this.#sock.write(data);
  }

  writev(chunks: readonly (Uint8Array | string)[]): boolean {
    const s = this.#sock;
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
}

function wire(sock: RawSocket, unix: boolean, listener: Listener, accept: Accept, viaOnread: boolean): void {
  if (!unix) sock.setNoDelay(true);
  const wrapped = new NodeSocket(sock, unix);
  if (!viaOnread) sock.on("data", onData);
  sock.on("end", onEnd);
  sock.on("drain", onDrain);
  sock.on("close", onClose);
  sock.on("error", onError);
  wrapped.events = accept(wrapped, listener);
}

function onreadDisabled(): boolean {
  return process.env.PRONGHORN_NO_ONREAD === "1";
}

function urlOf(target: ListenTarget, address: ReturnType<net.Server["address"]>): { url: string; port: number; unix: boolean } {
  if (typeof address === "string" || address === null) {
    const path = typeof address === "string" ? address : target.kind === "unix" ? target.path : "";
    return { url: `unix:${path}`, port: 0, unix: true };
  }
  const host = target.kind === "tcp" ? target.host : address.address;
  const shown = host.includes(":") ? `[${host}]` : host;
  return { url: `http://${shown}:${address.port}/`, port: address.port, unix: false };
}

export const nodeNet: NetRuntime = {
  async listen(target: ListenTarget, options: ListenOptions, accept: Accept): Promise<Listener> {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: false });
    const listenArgs: net.ListenOptions =
      target.kind === "tcp" ? { host: target.host, port: target.port, backlog: options.backlog }
      : target.kind === "unix" ? { path: target.path, backlog: options.backlog }
      : { fd: target.fd, backlog: options.backlog } as net.ListenOptions;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(listenArgs, () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", () => {}); // accept(2) errors (EMFILE) must not kill the worker
    const where = urlOf(target, server.address());
    const listener: Listener = {
      target,
      url: where.url,
      port: where.port,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
    const unix = where.unix;
    const readBuffer = options.readBuffer;
    // `_handle` is private: see the file comment for why, and the fallback when it is absent.
    const handle = (server as unknown as { _handle?: ServerHandle })._handle;
    if (readBuffer !== undefined && !onreadDisabled() && handle && typeof handle.onconnection === "function") {
      const onread = { buffer: readBuffer, callback: onReadInto };
      handle.onconnection = (err: number, clientHandle: unknown): void => {
        if (err !== 0 && err !== undefined) return;
        // net.Socket's constructor accepts `handle` and `onread` together; it then calls
        // useUserBuffer() on the handle, so libuv reads into readBuffer (lib/net.js initSocketHandle).
        const sock = new net.Socket({
          handle: clientHandle, readable: true, writable: true, allowHalfOpen: true, onread,
        } as net.SocketConstructorOpts) as RawSocket;
        wire(sock, unix, listener, accept, true);
      };
    } else {
      server.on("connection", (sock: RawSocket) => wire(sock, unix, listener, accept, false));
    }
    return listener;
  },
};
