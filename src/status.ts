/**
 * --status-path and --health-path: a wrapper around the app's fetch, installed by the worker only
 * when one of them is set, so the default request path does no work for them at all.
 *
 * The status page (Plack::Middleware::ServerStatus::Lite's, for clients in --status-allow; 403
 * for anyone else) shows every live worker, not just the one answering: that worker asks the
 * supervisor, which asks every worker for its counters and relays them (supervisor.ts,
 * STATUS_DEADLINE_MS). A worker's counters are plain increments: requests (the worker's own
 * request count, kept for --max-reqs-per-child anyway), connections accepted, and requests inside
 * the app right now (busy or idle). `?json` gives a JSON document instead of text.
 *
 * The health check answers 200 while the worker takes new work and 503 as soon as it stops
 * (a graceful stop, a reload, its quota, retire(), a signal), while its in-flight requests finish;
 * it is open to every client.
 */
import type { Clock, RemoteAddr, ServerStatus } from "./runtime/runtime.js";
import type { FetchHandler, ServeInfo } from "./http/server.js";
import { parseAddress, parseCidr, type Cidr } from "./config.js";

/** What a worker reports about itself; opaque to the supervisor. */
export interface WorkerCounters {
  state: "idle" | "busy" | "stopping";
  requests: number;
  connections: number;
  /** Since the worker started serving. */
  uptimeMs: number;
}

/** The status page's JSON form. Seconds, not milliseconds, like the rest of the options. */
export interface StatusDocument {
  pid: number;
  uptime: number;
  generation: number;
  workers: {
    pid: number;
    id: number;
    generation: number;
    state: "idle" | "busy" | "stopping";
    requests: number | null;
    connections: number | null;
    uptime: number | null;
    /** Present (true) when the worker did not answer in time: its last reported numbers. */
    stale?: true;
  }[];
}

export interface EndpointOptions {
  statusPath: string | undefined;
  /** CIDRs, and `unix` for unix-socket clients. */
  statusAllow: readonly string[];
  healthPath: string | undefined;
  clock: Clock;
  /** false once the worker stopped taking new work. */
  accepting(): boolean;
  /** Requests and connections so far (the worker counts them). */
  totals(): { requests: number; connections: number };
  /** Every worker's counters through the supervisor; undefined if it did not answer. */
  collect(): Promise<ServerStatus | undefined>;
  /** This worker, for a page made without the supervisor. */
  self: { pid: number; id: number; generation: number };
}

export interface Endpoints {
  fetch: FetchHandler;
  /** This worker's counters, to answer the supervisor's ask. */
  counters(): WorkerCounters;
}

/** How long a worker waits for the supervisor's answer (which comes within its
 *  STATUS_DEADLINE_MS) before it shows its own counters alone. */
export const COLLECT_TIMEOUT_MS = 1000;

const TEXT = { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" };

/** Wrap `app` so that the status and health paths are answered here and everything else goes on. */
export function withEndpoints(app: FetchHandler, opts: EndpointOptions): Endpoints {
  const allow = opts.statusAllow.filter((c) => c !== "unix").map((c) => parseCidr(c)!);
  const allowUnix = opts.statusAllow.includes("unix");
  const startedAt = opts.clock.now();
  const { statusPath, healthPath } = opts;
  let inApp = 0;

  const counters = (): WorkerCounters => ({
    state: !opts.accepting() ? "stopping" : inApp > 0 ? "busy" : "idle",
    ...opts.totals(),
    uptimeMs: opts.clock.now() - startedAt,
  });

  const status = async (request: Request, info: ServeInfo, query: string): Promise<Response> => {
    if (!allowed(info.remoteAddr, allow, allowUnix)) return new Response("Forbidden\n", { status: 403, headers: TEXT });
    const collected = await opts.collect();
    const doc = toDocument(collected ?? alone(opts.self, counters(), opts.clock.now() - startedAt));
    if (/(^|&)json(=|&|$)/.test(query)) {
      return new Response(JSON.stringify(doc) + "\n", { headers: { "content-type": "application/json", "cache-control": "no-store" } });
    }
    void request;
    return new Response(statusText(doc), { headers: TEXT });
  };

  const fetch: FetchHandler = (request, info) => {
    const url = request.url;
    // Only URLs that contain one of the paths are looked at more closely.
    if ((statusPath !== undefined && url.includes(statusPath)) || (healthPath !== undefined && url.includes(healthPath))) {
      const [pathname, query] = splitUrl(url);
      if (pathname === healthPath) {
        return opts.accepting()
          ? new Response("ok\n", { headers: TEXT })
          : new Response("stopping\n", { status: 503, headers: TEXT });
      }
      if (pathname === statusPath) return status(request, info, query);
    }
    inApp++;
    let settled = false;
    const done = () => {
      if (!settled) inApp--;
      settled = true;
    };
    try {
      const r = app(request, info);
      if (r instanceof Promise) return r.finally(done);
      done();
      return r;
    } catch (err) {
      done();
      throw err;
    }
  };

  return { fetch, counters };
}

/** An absolute URL's pathname and query, as sent (no decoding). */
export function splitUrl(url: string): [string, string] {
  const scheme = url.indexOf("://");
  const start = url.indexOf("/", scheme < 0 ? 0 : scheme + 3);
  if (start < 0) return ["/", ""];
  const hash = url.indexOf("#", start);
  const end = hash < 0 ? url.length : hash;
  const q = url.indexOf("?", start);
  return q < 0 || q > end ? [url.slice(start, end), ""] : [url.slice(start, q), url.slice(q + 1, end)];
}

/** Whether the client may read the status page. */
export function allowed(remote: RemoteAddr, allow: readonly Cidr[], allowUnix: boolean): boolean {
  if (remote.transport === "unix") return allowUnix;
  const addr = parseAddress(remote.hostname);
  if (!addr) return false;
  return allow.some((c) => inCidr(addr, c));
}

function inCidr(addr: Uint8Array, c: Cidr): boolean {
  let bits = c.prefix;
  for (let i = 0; i < 16 && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((addr[i] & mask) !== (c.bytes[i] & mask)) return false;
  }
  return true;
}

/** The page when the supervisor cannot be asked (it is gone): this worker only. */
function alone(self: EndpointOptions["self"], own: WorkerCounters, uptimeMs: number): ServerStatus {
  return {
    pid: 0,
    uptimeMs,
    generation: self.generation,
    workers: [{ ...self, retiring: own.state === "stopping", answered: true, counters: own }],
  };
}

const secs = (ms: number): number => Math.round(ms) / 1000;

export function toDocument(s: ServerStatus): StatusDocument {
  return {
    pid: s.pid,
    uptime: secs(s.uptimeMs),
    generation: s.generation,
    workers: s.workers.map((w) => {
      const c = w.counters as WorkerCounters | undefined;
      const state = w.retiring ? "stopping" : c?.state ?? "idle";
      return {
        pid: w.pid,
        id: w.id,
        generation: w.generation,
        state,
        requests: c?.requests ?? null,
        connections: c?.connections ?? null,
        uptime: c ? secs(c.uptimeMs) : null,
        ...(w.answered ? {} : { stale: true as const }),
      };
    }),
  };
}

/** The text page, in ServerStatus::Lite's shape: a summary, `--`, then one line per worker. */
export function statusText(doc: StatusDocument): string {
  const count = (state: string) => doc.workers.filter((w) => w.state === state).length;
  const sum = (f: (w: StatusDocument["workers"][number]) => number | null) => doc.workers.reduce((n, w) => n + (f(w) ?? 0), 0);
  const lines = [
    `Uptime: ${Math.floor(doc.uptime)} seconds`,
    `PID: ${doc.pid}`,
    `Generation: ${doc.generation}`,
    `Total Accesses: ${sum((w) => w.requests)}`,
    `Total Connections: ${sum((w) => w.connections)}`,
    `BusyWorkers: ${count("busy")}`,
    `IdleWorkers: ${count("idle")}`,
    `StoppingWorkers: ${count("stopping")}`,
    "--",
    "pid id generation state requests connections uptime",
    ...doc.workers.map((w) =>
      `${w.pid} ${w.id} ${w.generation} ${w.state} ${w.requests ?? "-"} ${w.connections ?? "-"} ${w.uptime === null ? "-" : Math.floor(w.uptime)}${w.stale ? " (stale)" : ""}`),
  ];
  return lines.join("\n") + "\n";
}
