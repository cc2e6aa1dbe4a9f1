/**
 * The option table, its defaults and its validation: argv (and the environment) in, a `Config`
 * out, or one `ConfigError` line naming the bad option (the CLI exits 2 on it). Nothing here
 * starts anything. Names and defaults follow Gazelle and plackup (the README's option
 * table); --graceful-timeout is the stop deadline Gazelle lacks.
 * Inherited listeners come from SERVER_STARTER_PORT (every entry, unlike Gazelle, which takes
 * one at random) or systemd's LISTEN_FDS (only when LISTEN_PID is set and ours, as
 * sd_listen_fds(3) requires), and win over --listen.
 */
import os from "node:os";
import fs from "node:fs";
import path from "node:path";
import type { ListenTarget } from "./runtime/runtime.js";

export interface Config {
  /** Path of the app module (resolved, absolute); "" when the app is passed to serve() in code. */
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
  /** How long a stopping or retiring worker may take to finish its requests before its
   *  connections are closed; 0 = no deadline (Gazelle's behaviour). */
  gracefulTimeoutMs: number;
  /** How long a new worker may take to load the app and listen; 0 = no deadline. */
  startupTimeoutMs: number;
  /** -E: "development" logs each request and shows stacks; anything else does not. */
  env: string;
  /** --access-log FILE ("-" = stderr), if any. */
  accessLog: string | undefined;
  /** The switches read from the environment once, here, and carried to the worker:
   *  PRONGHORN_NO_WASM_SIMD=1 loads the scalar parser build, */
  wasmSimd: boolean;
  /** PRONGHORN_NATIVE_RESPONSE=1 keeps the platform's global Response, */
  nativeResponse: boolean;
  /** PRONGHORN_NO_ONREAD=1 turns off zero-copy reads into wasm memory. */
  zeroCopyReads: boolean;
}

/** A usage error: one line, already prefixed with `pronghorn:`. The CLI prints it and exits 2. */
export class ConfigError extends Error {
  readonly code = "PRONGHORN_BAD_OPTION";
  constructor(message: string) {
    super(`pronghorn: ${message}`);
    this.name = "ConfigError";
  }
}

type Kind = "count" | "count0" | "port" | "secs" | "secs0" | "string" | "file" | "listen";

interface OptionSpec {
  long: string;
  short?: string;
  arg: string;
  kind: Kind;
  /** The largest value a count accepts. */
  max?: number;
  default: string;
  help: string;
  repeat?: boolean;
}

/** --workers beyond this is a typo (an extra digit), not a plan: each worker is a whole runtime
 *  process of tens of MB, and an event-loop worker needs no more than one per core. */
export const MAX_WORKERS = 1024;

/** The option table: parsing, validation and --help all read it. */
export const OPTIONS: readonly OptionSpec[] = [
  { long: "app", short: "a", arg: "FILE", kind: "file", default: "./app.ts, ./app.js, ./app.mjs", help: "the app module (or the APP argument)" },
  { long: "host", short: "o", arg: "HOST", kind: "string", default: "0.0.0.0", help: "bind address (:: for IPv6)" },
  { long: "port", short: "p", arg: "PORT", kind: "port", default: "5000", help: "TCP port (0 = any free port)" },
  { long: "listen", short: "l", arg: "ADDR", kind: "listen", default: "-", repeat: true, help: "HOST:PORT, :PORT, PORT, [V6]:PORT, /path.sock or unix:/path; repeatable" },
  { long: "socket", short: "S", arg: "PATH", kind: "listen", default: "-", repeat: true, help: "unix socket (same as --listen PATH)" },
  { long: "backlog", arg: "N", kind: "count", default: "1024", help: "listen backlog" },
  { long: "workers", arg: "N", kind: "count", max: MAX_WORKERS, default: "CPU count", help: `worker processes, at most ${MAX_WORKERS}` },
  { long: "timeout", arg: "SECS", kind: "secs", default: "300", help: "per read/write wait timeout" },
  { long: "max-reqs-per-child", arg: "N", kind: "count0", default: "0 (no limit)", help: "recycle a worker after N requests" },
  { long: "min-reqs-per-child", arg: "N", kind: "count", default: "-", help: "pick each worker's limit uniformly in [min, max]" },
  { long: "spawn-interval", arg: "SECS", kind: "secs0", default: "0", help: "at most one spawn per interval; paces HUP reloads and USR1 stops" },
  { long: "child-exit", arg: "FILE", kind: "file", default: "-", help: "module whose default export runs right before a worker exits" },
  { long: "keepalive-timeout", arg: "SECS", kind: "secs0", default: "5", help: "idle time between requests; 0 = close after every response (Gazelle)" },
  { long: "max-keepalive-reqs", arg: "N", kind: "count0", default: "0 (no limit)", help: "requests per connection" },
  { long: "header-timeout", arg: "SECS", kind: "secs", default: "60", help: "the whole request head must arrive within this" },
  { long: "max-header-size", arg: "BYTES", kind: "count", default: "16384", help: "request head limit (431 beyond it)" },
  { long: "max-body-size", arg: "BYTES", kind: "count0", default: "0 (no limit)", help: "request body limit (413 beyond it)" },
  { long: "graceful-timeout", arg: "SECS", kind: "secs0", default: "30", help: "deadline for a stopping worker's requests; 0 = none" },
  { long: "startup-timeout", arg: "SECS", kind: "secs0", default: "60", help: "a new worker must load the app and listen within this; 0 = none" },
  { long: "env", short: "E", arg: "NAME", kind: "string", default: "development", help: "development logs requests to stderr and shows error stacks" },
  { long: "access-log", arg: "FILE", kind: "string", default: "-", help: "combined log format to FILE (- = stderr), in any env" },
];

const APP_CANDIDATES = ["app.ts", "app.js", "app.mjs"];

export interface ParseOptions {
  /** Working directory for relative paths (default: process.cwd()). */
  cwd?: string;
  /** Our pid, for systemd's LISTEN_PID check (default: process.pid). */
  pid?: number;
  /** serve() passes the fetch handler in code: no app module is looked for. */
  appInCode?: boolean;
}

export type ParseResult =
  | { action: "help"; text: string }
  | { action: "version" }
  | { action: "serve"; config: Config };

/** argv (without the runtime and script) and the environment -> what to do. Throws ConfigError. */
export function parseConfig(argv: readonly string[], env: Record<string, string | undefined>, opts: ParseOptions = {}): ParseResult {
  const cwd = opts.cwd ?? process.cwd();
  const values = new Map<string, string[]>();
  /** How the user spelled each option (`-p` or `--port`), for error messages. */
  const typedAs = new Map<string, string>();
  const positional: string[] = [];
  const byLong = new Map(OPTIONS.map((o) => [o.long, o]));
  const byShort = new Map(OPTIONS.filter((o) => o.short).map((o) => [o.short!, o]));

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "-h" || arg === "--help") return { action: "help", text: helpText() };
    if (arg === "-v" || arg === "--version") return { action: "version" };
    let spec: OptionSpec | undefined;
    let inline: string | undefined;
    let typed = arg;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      typed = eq < 0 ? arg : arg.slice(0, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
      spec = byLong.get(typed.slice(2));
    } else if (arg.startsWith("-") && arg.length > 1) {
      typed = arg.slice(0, 2);
      inline = arg.length > 2 ? arg.slice(2).replace(/^=/, "") : undefined;
      spec = byShort.get(arg[1]);
    } else {
      positional.push(arg);
      continue;
    }
    if (!spec) throw new ConfigError(`unknown option "${typed}" (see --help)`);
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new ConfigError(`${typed}: expected ${spec.arg} after it`);
      value = argv[++i];
    }
    typedAs.set(spec.long, typed);
    const list = values.get(spec.long) ?? [];
    list.push(value);
    values.set(spec.long, list);
  }
  if (positional.length > 1) throw new ConfigError(`unexpected argument "${positional[1]}" (one APP only)`);
  if (positional.length === 1 && values.has("app")) throw new ConfigError(`--app: given twice (as --app and as "${positional[0]}")`);

  const last = (long: string): string | undefined => values.get(long)?.at(-1);
  const num = (long: string, fallback: number): number => {
    const v = last(long);
    return v === undefined ? fallback : checkNumber(typedAs.get(long)!, byLong.get(long)!, v);
  };

  // Every value's syntax first (in table order), so `--workers four` is reported as that even
  // when the app is missing too.
  for (const [long, list] of values) {
    const kind = byLong.get(long)!.kind;
    if (kind !== "string" && kind !== "file" && kind !== "listen") checkNumber(typedAs.get(long)!, byLong.get(long)!, list.at(-1)!);
  }

  // The app module.
  let app = "";
  if (!opts.appInCode) {
    const given = positional[0] ?? last("app");
    if (given !== undefined) {
      app = path.resolve(cwd, given);
      if (!isFile(app)) throw new ConfigError(`${positional[0] !== undefined ? "APP" : typedAs.get("app")} "${given}": no such file`);
    } else {
      const found = APP_CANDIDATES.map((f) => path.join(cwd, f)).find(isFile);
      if (!found) throw new ConfigError(`no APP given and none of ./app.ts, ./app.js, ./app.mjs exists (see --help)`);
      app = found;
    }
  }

  let childExit: string | undefined;
  const ce = last("child-exit");
  if (ce !== undefined) {
    childExit = path.resolve(cwd, ce);
    if (!isFile(childExit)) throw new ConfigError(`--child-exit "${ce}": no such file`);
  }

  // Listeners: inherited ones win (as in Gazelle), then --listen/--socket, then --host/--port.
  const listenArgs = [...(values.get("listen") ?? []).map((v) => ["--listen", v]), ...(values.get("socket") ?? []).map((v) => ["--socket", v])];
  let listen: ListenTarget[] = [];
  const starter = env.SERVER_STARTER_PORT;
  const systemd = systemdFds(env, opts.pid ?? process.pid);
  if (starter !== undefined) {
    listen = parseServerStarterPort(starter);
  } else if (systemd) {
    listen = systemd;
  } else {
    for (const [option, v] of listenArgs) listen.push(parseListen(option, v, cwd));
    if (listen.length > 0) {
      for (const o of ["host", "port"]) {
        if (values.has(o)) throw new ConfigError(`${typedAs.get(o)}: cannot be combined with --listen or --socket; use --listen HOST:PORT`);
      }
    } else {
      const host = last("host") ?? "0.0.0.0";
      if (host === "") throw new ConfigError(`--host: expected an address or a host name, got ""`);
      listen.push({ kind: "tcp", host: stripBrackets(host), port: num("port", 5000) });
    }
  }
  // Validate --host/--port even when inherited listeners make them moot: a typo is still a typo.
  num("port", 0);

  const maxReqsPerChild = num("max-reqs-per-child", 0);
  let minReqsPerChild: number | undefined;
  if (values.has("min-reqs-per-child")) {
    minReqsPerChild = num("min-reqs-per-child", 0);
    if (maxReqsPerChild === 0) throw new ConfigError(`--min-reqs-per-child: needs --max-reqs-per-child N (the upper end of the range)`);
    if (minReqsPerChild > maxReqsPerChild) {
      throw new ConfigError(`--min-reqs-per-child: expected at most --max-reqs-per-child (${maxReqsPerChild}), got "${last("min-reqs-per-child")}"`);
    }
  }
  const envName = last("env") ?? "development";
  if (envName === "") throw new ConfigError(`--env: expected a name such as development or production, got ""`);
  const accessLog = last("access-log");
  if (accessLog === "") throw new ConfigError(`--access-log: expected a file name or -, got ""`);

  const config: Config = {
    app,
    listen,
    backlog: num("backlog", 1024),
    workers: num("workers", cpuCount()),
    timeoutMs: num("timeout", 300) * 1000,
    maxReqsPerChild,
    minReqsPerChild,
    spawnIntervalMs: num("spawn-interval", 0) * 1000,
    childExit,
    keepaliveTimeoutMs: num("keepalive-timeout", 5) * 1000,
    maxKeepaliveReqs: num("max-keepalive-reqs", 0),
    headerTimeoutMs: num("header-timeout", 60) * 1000,
    maxHeaderSize: num("max-header-size", 16384),
    maxBodySize: num("max-body-size", 0),
    gracefulTimeoutMs: num("graceful-timeout", 30) * 1000,
    startupTimeoutMs: num("startup-timeout", 60) * 1000,
    env: envName,
    accessLog: accessLog === undefined ? undefined : accessLog === "-" ? "-" : path.resolve(cwd, accessLog),
    wasmSimd: env.PRONGHORN_NO_WASM_SIMD !== "1",
    nativeResponse: env.PRONGHORN_NATIVE_RESPONSE === "1",
    zeroCopyReads: env.PRONGHORN_NO_ONREAD !== "1",
  };
  return { action: "serve", config };
}

function checkNumber(option: string, spec: OptionSpec, v: string): number {
  const kind = spec.kind;
  switch (kind) {
    case "count":
    case "count0": {
      const min = kind === "count" ? 1 : 0;
      if (!/^[0-9]+$/.test(v) || Number(v) < min || !Number.isSafeInteger(Number(v))) {
        throw new ConfigError(`${option}: expected a whole number >= ${min}, got "${v}"`);
      }
      if (spec.max !== undefined && Number(v) > spec.max) throw new ConfigError(`${option}: expected at most ${spec.max}, got "${v}"`);
      return Number(v);
    }
    case "port":
      if (!/^[0-9]+$/.test(v) || Number(v) > 65535) throw new ConfigError(`${option}: expected a port number 0-65535, got "${v}"`);
      return Number(v);
    case "secs":
    case "secs0": {
      const n = /^[0-9]+(\.[0-9]+)?$|^\.[0-9]+$/.test(v) ? Number(v) : NaN;
      if (!(n >= 0) || (kind === "secs" && n === 0) || n > 2_000_000) {
        throw new ConfigError(`${option}: expected a number of seconds ${kind === "secs" ? "> 0" : ">= 0"}, got "${v}"`);
      }
      return n;
    }
    default:
      throw new Error(`not a numeric option: ${option}`);
  }
}

/** `--listen` forms: HOST:PORT, :PORT, PORT, [V6]:PORT, /path.sock, ./path.sock, unix:/path. */
export function parseListen(option: string, v: string, cwd: string): ListenTarget {
  const bad = () => new ConfigError(`${option} "${v}": expected HOST:PORT, [V6]:PORT, :PORT, PORT or a socket path`);
  if (v === "") throw bad(); // path.resolve would make it the current directory
  if (v.startsWith("unix:")) {
    if (v.length === 5) throw bad();
    return { kind: "unix", path: path.resolve(cwd, v.slice(5)) };
  }
  if (option === "--socket" || v.includes("/")) return { kind: "unix", path: path.resolve(cwd, v) };
  let host = "0.0.0.0";
  let port: string;
  const v6 = /^\[([^\]]+)\]:([^:]*)$/.exec(v);
  if (v6) {
    host = v6[1];
    port = v6[2];
  } else if (/^[0-9]+$/.test(v)) {
    port = v;
  } else {
    const i = v.lastIndexOf(":");
    if (i < 0 || v.indexOf(":") !== i) throw bad();
    if (i > 0) host = v.slice(0, i);
    port = v.slice(i + 1);
  }
  if (!/^[0-9]+$/.test(port) || Number(port) > 65535) throw bad();
  return { kind: "tcp", host, port: Number(port) };
}

/** Server::Starter's `name=fd;name=fd` (Server::Starter's start_server, "ENVIRONMENT"): every entry, in order. */
export function parseServerStarterPort(value: string): ListenTarget[] {
  if (value.trim() === "") {
    throw new ConfigError(`SERVER_STARTER_PORT is empty: run start_server with --port or --path`);
  }
  return value.split(";").filter((e) => e !== "").map((entry) => {
    const eq = entry.lastIndexOf("=");
    const fd = eq < 0 ? "" : entry.slice(eq + 1);
    if (eq <= 0 || !/^[0-9]+$/.test(fd)) {
      throw new ConfigError(`SERVER_STARTER_PORT entry "${entry}": expected NAME=FD (e.g. 127.0.0.1:5000=3)`);
    }
    return { kind: "fd", fd: Number(fd), name: entry.slice(0, eq) };
  });
}

/** systemd socket activation (sd_listen_fds(3)): fds 3 .. 3+LISTEN_FDS-1, only if LISTEN_PID is
 *  set and is us. Otherwise the variables are not ours (a parent's, leaked into our environment)
 *  and are ignored, not an error: sd_listen_fds() returns 0 when LISTEN_PID is unset or another
 *  process's (a LISTEN_PID that is not a number is ignored too). Workers never see them
 *  (runtime/worker-channel.ts workerEnv: sd_listen_fds' unset_environment). */
function systemdFds(env: Record<string, string | undefined>, pid: number): ListenTarget[] | undefined {
  if (env.LISTEN_FDS === undefined || env.LISTEN_PID === undefined) return undefined;
  if (!/^[0-9]+$/.test(env.LISTEN_PID) || Number(env.LISTEN_PID) !== pid) return undefined;
  if (!/^[0-9]+$/.test(env.LISTEN_FDS) || Number(env.LISTEN_FDS) < 1) {
    throw new ConfigError(`LISTEN_FDS: expected a whole number >= 1, got "${env.LISTEN_FDS}"`);
  }
  const names = (env.LISTEN_FDNAMES ?? "").split(":");
  return Array.from({ length: Number(env.LISTEN_FDS) }, (_, i) => ({ kind: "fd" as const, fd: 3 + i, name: names[i] || `fd${3 + i}` }));
}

function stripBrackets(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function cpuCount(): number {
  return typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length || 1;
}

export function helpText(): string {
  const rows = OPTIONS.map((o) => {
    const names = `${o.short ? `-${o.short}, ` : "    "}--${o.long} ${o.arg}`;
    const def = o.default === "-" ? "" : ` (default: ${o.default})`;
    return `  ${names.padEnd(34)} ${o.help}${def}`;
  });
  return [
    "Usage: pronghorn [options] [APP]",
    "",
    "A preforking HTTP/1.1 server for fetch-handler apps (export default { fetch }).",
    "Run it with node, bun or deno (deno run -A); workers use the same runtime.",
    "",
    "Options:",
    ...rows,
    `  ${"-v, --version".padEnd(34)} print the version`,
    `  ${"-h, --help".padEnd(34)} print this help`,
    "",
    "Inherited listeners: SERVER_STARTER_PORT (start_server) or LISTEN_FDS (systemd) replace --listen.",
    "Signals: TERM/INT/QUIT graceful stop, HUP graceful reload, USR1 stop paced by --spawn-interval.",
  ].join("\n");
}
