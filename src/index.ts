/**
 * The programmatic API: `serve({ fetch, ...options })`, the CLI's options in camelCase with the
 * CLI's units (seconds, bytes). The calling script is the workers' entry too: in the supervisor
 * `serve()` binds and forks workers that re-run the script; in a worker the same `serve()` call
 * serves with the `fetch` it was given. So keep side effects before `serve()` cheap.
 */
import { parseConfig, OPTIONS, ConfigError } from "./config.js";
import { supervise } from "./supervisor.js";
import { runWorker } from "./worker.js";
import { toFetchHandler } from "./app.js";
import { selectRuntime } from "./runtime/select.js";
import type { FetchHandler } from "./http/server.js";

export type { FetchHandler, ServeInfo } from "./http/server.js";
export type { RemoteAddr } from "./runtime/runtime.js";
export { ConfigError } from "./config.js";

/** Options of {@link serve}: the CLI's, camelCased (`--max-reqs-per-child` is `maxReqsPerChild`). */
export interface ServeOptions {
  /** The fetch handler (or pass an object with a `fetch` method as the options themselves). */
  fetch: FetchHandler;
  /** Bind address. Default `0.0.0.0`. */
  host?: string;
  /** TCP port. Default 5000; 0 picks a free port. */
  port?: number;
  /** `HOST:PORT`, `:PORT`, `PORT`, `[V6]:PORT`, `/path.sock` or `unix:/path`; replaces host/port. */
  listen?: string | string[];
  /** A unix socket path (same as listen). */
  socket?: string | string[];
  /** Listen backlog. Default 1024. */
  backlog?: number;
  /** Worker processes, at most 1024. Default: the CPU count. */
  workers?: number;
  /** Per read/write wait timeout, seconds. Default 300. */
  timeout?: number;
  /** Recycle a worker after this many requests; 0 (default) = never. */
  maxReqsPerChild?: number;
  /** With maxReqsPerChild: each worker's limit is uniform in [min, max]. */
  minReqsPerChild?: number;
  /** At most one spawn per interval, seconds; paces HUP reloads and USR1 stops. Default 0. */
  spawnInterval?: number;
  /** Module whose default export runs right before a worker exits. */
  childExit?: string;
  /** Idle seconds between requests on a connection; 0 = close after every response. Default 5. */
  keepaliveTimeout?: number;
  /** Requests per connection; 0 (default) = no limit. */
  maxKeepaliveReqs?: number;
  /** Seconds for the whole request head to arrive. Default 60. */
  headerTimeout?: number;
  /** Request head limit in bytes (431 beyond). Default 16384. */
  maxHeaderSize?: number;
  /** Request body limit in bytes (413 beyond); 0 (default) = none. */
  maxBodySize?: number;
  /** Seconds a stopping worker may take to finish its requests; 0 = no deadline. Default 30. */
  gracefulTimeout?: number;
  /** Seconds a new worker may take to load and listen before it is stopped as a failed start;
   *  0 = no deadline. Default 60. */
  startupTimeout?: number;
  /** `development` (default) logs requests to stderr and shows stacks in 500s. */
  env?: string;
  /** Combined log format to this file (`-` = stderr). */
  accessLog?: string;
}

/**
 * Start pronghorn with a fetch handler given in code.
 *
 * @example
 * ```ts
 * import { serve } from "pronghorn";
 * serve({ port: 8080, workers: 4, fetch: (req) => new Response(`hello ${new URL(req.url).pathname}`) });
 * ```
 * Resolves once the supervisor has bound its listeners and started the workers (in a worker:
 * once it serves). Rejects with a {@link ConfigError} (code `PRONGHORN_BAD_OPTION`) on a bad option.
 */
export async function serve(options: ServeOptions): Promise<void> {
  const fetch = toFetchHandler(options, "serve()");
  const runtime = await selectRuntime();
  const ctx = runtime.workerContext();
  if (ctx) return runWorker(runtime, ctx, fetch);
  const parsed = parseConfig(optionsToArgv(options), process.env, { appInCode: true });
  if (parsed.action !== "serve") throw new Error("unreachable: serve() options never ask for help");
  await supervise(runtime, parsed.config);
}

/** camelCase options -> CLI arguments, so one table validates both. */
function optionsToArgv(options: ServeOptions): string[] {
  const known = new Set(OPTIONS.map((o) => o.long));
  const argv: string[] = [];
  for (const [key, value] of Object.entries(options)) {
    if (key === "fetch" || value === undefined) continue;
    const long = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    if (!known.has(long) || long === "app") throw new ConfigError(`serve(): unknown option "${key}"`);
    for (const v of Array.isArray(value) ? value : [value]) argv.push(`--${long}`, String(v));
  }
  return argv;
}
