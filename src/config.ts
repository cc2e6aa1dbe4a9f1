/**
 * The option table, its defaults and its validation: argv (and the environment) in, a `Config`
 * out, or one `ConfigError` line naming the bad option (the CLI exits 2 on it). Nothing here
 * starts anything. DESIGN.md "The CLI contract" is the source of every name and default.
 */
import type { ListenTarget } from "./runtime/runtime.js";

export interface Config {
  /** Path of the app module (resolved, absolute). */
  app: string;
  /** Where to listen; from --listen/--socket/--host/--port, or inherited (SERVER_STARTER_PORT, LISTEN_FDS). */
  listen: ListenTarget[];
  backlog: number;
  workers: number;
  /** --timeout, per read/write wait. */
  timeoutMs: number;
  /** 0 = no limit. */
  maxReqsPerChild: number;
  /** undefined unless --min-reqs-per-child was given. */
  minReqsPerChild: number | undefined;
  spawnIntervalMs: number;
  /** Absolute path of the --child-exit module, if any. */
  childExit: string | undefined;
  /** 0 = Gazelle mode: every response closes its connection. */
  keepaliveTimeoutMs: number;
  /** 0 = no limit. */
  maxKeepaliveReqs: number;
  headerTimeoutMs: number;
  maxHeaderSize: number;
  /** 0 = no limit. */
  maxBodySize: number;
  /** -E: "development" logs each request and shows stacks; anything else does not. */
  env: string;
  /** --access-log FILE ("-" = stderr), if any. */
  accessLog: string | undefined;
}
