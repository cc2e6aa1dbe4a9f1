/**
 * The app contract: what a worker's app is (a FetchHandler) and the second argument each call
 * gets (ServeInfo). Public API, re-exported by src/index.ts; see the README, "The app". Types
 * only: the server (server.ts) and each connection (connection.ts) implement their halves.
 */
import type { RemoteAddr } from "../runtime/runtime.js";

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
