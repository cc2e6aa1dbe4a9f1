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
  accessLogFormat: "combined" | "json";
  /** --status-path: the server-status page's path, if any. */
  statusPath: string | undefined;
  /** --status-allow: CIDRs (and `unix`) whose clients may read the status page. */
  statusAllow: string[];
  /** --health-path: the health check's path, if any. */
  healthPath: string | undefined;
  /** The switches read from the environment once, here, and carried to the worker:
   *  PRONGHORN_NO_WASM_SIMD=1 loads the scalar parser build, */
  wasmSimd: boolean;
  /** PRONGHORN_NATIVE_RESPONSE=1 keeps the platform's global Response, */
  nativeResponse: boolean;
  /** PRONGHORN_NO_ONREAD=1 turns off zero-copy reads into wasm memory, */
  zeroCopyReads: boolean;
  /** PRONGHORN_NO_DIRECT_HANDLE=1 keeps a net.Socket around each connection on Node. */
  directHandles: boolean;
}

/** A usage error: one line, already prefixed with `pronghorn:`. The CLI prints it and exits 2. */
export class ConfigError extends Error {
  readonly code = "PRONGHORN_BAD_OPTION";
  constructor(message: string) {
    super(`pronghorn: ${message}`);
    this.name = "ConfigError";
  }
}

/** How an option's value is read and checked: `count` a whole number within [min, max]; `secs`
 *  seconds, fractions allowed, `> 0` unless `min: 0` (Config holds them in ms); `port` 0-65535;
 *  `path` a URL path starting with `/`; `cidr` an IPv4 or IPv6 CIDR (or `unix`); `choice` one
 *  of `choices`; `string`, `file` and `listen` are checked where they are used. */
type Kind = "count" | "secs" | "port" | "string" | "file" | "listen" | "path" | "cidr" | "choice";

export interface OptionSpec {
  /** `--long`. */
  readonly long: string;
  /** Its name in serve()'s options: `long` in camelCase. Absent: the CLI only (the app module). */
  readonly key?: string;
  readonly short?: string;
  /** The value's name in --help and in "expected ARG after it". */
  readonly arg: string;
  readonly kind: Kind;
  /** The value used when the option is not given (in the option's own unit); absent = none. */
  readonly default?: number | string | readonly string[];
  /** How --help shows a default that is computed, not written here (`CPU count`). */
  readonly defaultText?: string;
  /** The unit of a number, for serve()'s docs; Config holds seconds as milliseconds. */
  readonly unit?: "seconds" | "bytes" | "requests" | "processes";
  /** Bounds of a count (inclusive), or of seconds (`min: 0` allows 0). */
  readonly min?: number;
  readonly max?: number;
  readonly choices?: readonly string[];
  /** Repeatable: every value counts, not only the last. */
  readonly repeat?: boolean;
  readonly help: string;
}

/** --workers beyond this is a typo (an extra digit), not a plan: each worker is a whole runtime
 *  process of tens of MB, and an event-loop worker needs no more than one per core. */
export const MAX_WORKERS = 1024;

/** --max-header-size at most this. The parser's wasm memory is fixed (16 MiB, shared by the
 *  read buffer and the scratch area a head is copied into), so a limit near it cannot be
 *  honoured; 1 MiB is already 64 times the default and 128 times nginx's 8k header buffers. */
export const MAX_HEADER_SIZE = 1024 * 1024;

/** Longer waits than this overflow the runtimes' 32-bit timers. */
const MAX_SECS = 2_000_000;

const APP_CANDIDATES = ["app.ts", "app.js", "app.mjs"];

/** The option table: parsing, defaults, validation, --help and serve()'s options all read it. */
export const OPTIONS = [
  { long: "app", short: "a", arg: "FILE", kind: "file", defaultText: APP_CANDIDATES.map((f) => `./${f}`).join(", "), help: "the app module (or the APP argument)" },
  { long: "host", key: "host", short: "o", arg: "HOST", kind: "string", default: "0.0.0.0", help: "bind address (:: for IPv6)" },
  { long: "port", key: "port", short: "p", arg: "PORT", kind: "port", default: 5000, help: "TCP port (0 = any free port)" },
  { long: "listen", key: "listen", short: "l", arg: "ADDR", kind: "listen", repeat: true, help: "HOST:PORT, :PORT, PORT, [V6]:PORT, /path.sock or unix:/path; repeatable" },
  { long: "socket", key: "socket", short: "S", arg: "PATH", kind: "listen", repeat: true, help: "unix socket (same as --listen PATH)" },
  { long: "backlog", key: "backlog", arg: "N", kind: "count", min: 1, default: 1024, help: "listen backlog" },
  { long: "workers", key: "workers", arg: "N", kind: "count", unit: "processes", min: 1, max: MAX_WORKERS, defaultText: "CPU count", help: `worker processes, at most ${MAX_WORKERS}` },
  { long: "timeout", key: "timeout", arg: "SECS", kind: "secs", unit: "seconds", default: 300, help: "per read/write wait timeout" },
  { long: "max-reqs-per-child", key: "maxReqsPerChild", arg: "N", kind: "count", unit: "requests", min: 0, default: 0, defaultText: "0 (no limit)", help: "recycle a worker after N requests" },
  { long: "min-reqs-per-child", key: "minReqsPerChild", arg: "N", kind: "count", unit: "requests", min: 1, help: "pick each worker's limit uniformly in [min, max]" },
  { long: "spawn-interval", key: "spawnInterval", arg: "SECS", kind: "secs", unit: "seconds", min: 0, default: 0, help: "at most one spawn per interval; paces HUP reloads and USR1 stops" },
  { long: "child-exit", key: "childExit", arg: "FILE", kind: "file", help: "module whose default export runs right before a worker exits" },
  { long: "keepalive-timeout", key: "keepaliveTimeout", arg: "SECS", kind: "secs", unit: "seconds", min: 0, default: 5, help: "idle time between requests; 0 = close after every response (Gazelle)" },
  { long: "max-keepalive-reqs", key: "maxKeepaliveReqs", arg: "N", kind: "count", unit: "requests", min: 0, default: 0, defaultText: "0 (no limit)", help: "requests per connection" },
  { long: "header-timeout", key: "headerTimeout", arg: "SECS", kind: "secs", unit: "seconds", default: 60, help: "the whole request head must arrive within this" },
  { long: "max-header-size", key: "maxHeaderSize", arg: "BYTES", kind: "count", unit: "bytes", min: 1, max: MAX_HEADER_SIZE, default: 16384, help: `request head limit (431 beyond it), at most ${MAX_HEADER_SIZE}` },
  { long: "max-body-size", key: "maxBodySize", arg: "BYTES", kind: "count", unit: "bytes", min: 0, default: 0, defaultText: "0 (no limit)", help: "request body limit (413 beyond it)" },
  { long: "graceful-timeout", key: "gracefulTimeout", arg: "SECS", kind: "secs", unit: "seconds", min: 0, default: 30, help: "deadline for a stopping worker's requests; 0 = none" },
  { long: "startup-timeout", key: "startupTimeout", arg: "SECS", kind: "secs", unit: "seconds", min: 0, default: 60, help: "a new worker must load the app and listen within this; 0 = none" },
  { long: "status-path", key: "statusPath", arg: "PATH", kind: "path", help: "serve the server-status page there (text; ?json for JSON)" },
  { long: "status-allow", key: "statusAllow", arg: "CIDR", kind: "cidr", repeat: true, default: ["127.0.0.0/8", "::1/128", "unix"], help: "clients allowed to read the status page (unix = unix-socket clients); repeatable, replaces the default" },
  { long: "health-path", key: "healthPath", arg: "PATH", kind: "path", help: "answer 200 there while the worker takes new work, 503 once it stops" },
  { long: "env", key: "env", short: "E", arg: "NAME", kind: "string", default: "development", help: "development logs requests to stderr and shows error stacks" },
  { long: "access-log", key: "accessLog", arg: "FILE", kind: "string", help: "access log to FILE (- = stderr), in any env; reopened on USR2" },
  { long: "access-log-format", key: "accessLogFormat", arg: "FORMAT", kind: "choice", choices: ["combined", "json"], default: "combined", help: "combined (Apache's) or json (one object per line)" },
] as const satisfies readonly OptionSpec[];

type Option = (typeof OPTIONS)[number];
type ValueOf<O extends Option> = O["kind"] extends "count" | "secs" | "port" ? number
  : O extends { choices: readonly (infer C)[] } ? C
  : string;

/** serve()'s options, as the table defines them: every option with a `key`, a number or a
 *  string (a string or a list of them where the option repeats), in the option's unit. */
export type OptionValues = {
  -readonly [O in Option as O extends { key: string } ? O["key"] : never]?: O extends { repeat: true } ? ValueOf<O> | ValueOf<O>[] : ValueOf<O>;
};


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
  const byLong = new Map<string, OptionSpec>(OPTIONS.map((o) => [o.long, o]));
  const byShort = new Map<string, OptionSpec>(OPTIONS.flatMap((o: OptionSpec) => (o.short ? [[o.short, o]] : [])));

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

  // Every value's syntax first (in the order given), so `--workers four` is reported as that
  // even when the app is missing too.
  for (const [long, list] of values) {
    const spec = byLong.get(long)!;
    for (const v of spec.repeat ? list : [list.at(-1)!]) checkValue(typedAs.get(long)!, spec, v);
  }

  const last = (long: string): string | undefined => values.get(long)?.at(-1);
  /** The option's number: the last one given, else the table's default (undefined if none). */
  const num = (long: string): number | undefined => {
    const v = last(long);
    const spec = byLong.get(long)!;
    return v === undefined ? (spec.default as number | undefined) : checkValue(typedAs.get(long)!, spec, v) as number;
  };
  const ms = (long: string): number => num(long)! * 1000;
  const str = (long: string): string | undefined => last(long) ?? (byLong.get(long)!.default as string | undefined);

  // The app module.
  let app = "";
  if (!opts.appInCode) {
    const given = positional[0] ?? last("app");
    if (given !== undefined) {
      app = path.resolve(cwd, given);
      if (!isFile(app)) throw new ConfigError(`${positional[0] !== undefined ? "APP" : typedAs.get("app")} "${given}": no such file`);
    } else {
      const found = APP_CANDIDATES.map((f) => path.join(cwd, f)).find(isFile);
      if (!found) throw new ConfigError(`no APP given and none of ${byLong.get("app")!.defaultText} exists (see --help)`);
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
      const host = str("host")!;
      if (host === "") throw new ConfigError(`--host: expected an address or a host name, got ""`);
      listen.push({ kind: "tcp", host: stripBrackets(host), port: num("port")! });
    }
  }

  const maxReqsPerChild = num("max-reqs-per-child")!;
  const minReqsPerChild = num("min-reqs-per-child");
  if (minReqsPerChild !== undefined) {
    if (maxReqsPerChild === 0) throw new ConfigError(`--min-reqs-per-child: needs --max-reqs-per-child N (the upper end of the range)`);
    if (minReqsPerChild > maxReqsPerChild) {
      throw new ConfigError(`--min-reqs-per-child: expected at most --max-reqs-per-child (${maxReqsPerChild}), got "${last("min-reqs-per-child")}"`);
    }
  }
  const envName = str("env")!;
  if (envName === "") throw new ConfigError(`--env: expected a name such as development or production, got ""`);
  const accessLog = last("access-log");
  if (accessLog === "") throw new ConfigError(`--access-log: expected a file name or -, got ""`);
  const statusPath = last("status-path");
  const healthPath = last("health-path");
  if (statusPath !== undefined && statusPath === healthPath) {
    throw new ConfigError(`--health-path: "${healthPath}" is the --status-path too`);
  }

  const config: Config = {
    app,
    listen,
    backlog: num("backlog")!,
    workers: num("workers") ?? cpuCount(),
    timeoutMs: ms("timeout"),
    maxReqsPerChild,
    minReqsPerChild,
    spawnIntervalMs: ms("spawn-interval"),
    childExit,
    keepaliveTimeoutMs: ms("keepalive-timeout"),
    maxKeepaliveReqs: num("max-keepalive-reqs")!,
    headerTimeoutMs: ms("header-timeout"),
    maxHeaderSize: num("max-header-size")!,
    maxBodySize: num("max-body-size")!,
    gracefulTimeoutMs: ms("graceful-timeout"),
    startupTimeoutMs: ms("startup-timeout"),
    env: envName,
    accessLog: accessLog === undefined ? undefined : accessLog === "-" ? "-" : path.resolve(cwd, accessLog),
    accessLogFormat: str("access-log-format") as "combined" | "json",
    statusPath,
    statusAllow: values.get("status-allow") ?? [...(byLong.get("status-allow")!.default as readonly string[])],
    healthPath,
    wasmSimd: env.PRONGHORN_NO_WASM_SIMD !== "1",
    nativeResponse: env.PRONGHORN_NATIVE_RESPONSE === "1",
    zeroCopyReads: env.PRONGHORN_NO_ONREAD !== "1",
    directHandles: env.PRONGHORN_NO_DIRECT_HANDLE !== "1",
  };
  return { action: "serve", config };
}

/** Check one value against its option's kind and bounds: the number it means, or the string. */
function checkValue(option: string, spec: OptionSpec, v: string): number | string {
  switch (spec.kind) {
    case "count": {
      const min = spec.min ?? 1;
      if (!/^[0-9]+$/.test(v) || Number(v) < min || !Number.isSafeInteger(Number(v))) {
        throw new ConfigError(`${option}: expected a whole number >= ${min}, got "${v}"`);
      }
      if (spec.max !== undefined && Number(v) > spec.max) throw new ConfigError(`${option}: expected at most ${spec.max}, got "${v}"`);
      return Number(v);
    }
    case "port":
      if (!/^[0-9]+$/.test(v) || Number(v) > 65535) throw new ConfigError(`${option}: expected a port number 0-65535, got "${v}"`);
      return Number(v);
    case "secs": {
      const zero = spec.min === 0;
      const n = /^[0-9]+(\.[0-9]+)?$|^\.[0-9]+$/.test(v) ? Number(v) : NaN;
      if (!(n >= 0) || (!zero && n === 0) || n > (spec.max ?? MAX_SECS)) {
        throw new ConfigError(`${option}: expected a number of seconds ${zero ? ">= 0" : "> 0"}, got "${v}"`);
      }
      return n;
    }
    case "path":
      // Matched against the request's pathname as sent: no query, no fragment, no dot segments.
      if (!/^\/[!$&'()*+,;=:@%\w.~/-]*$/.test(v) || /(^|\/)\.\.?(\/|$)/.test(v)) {
        throw new ConfigError(`${option}: expected a URL path such as /server-status, got "${v}"`);
      }
      return v;
    case "cidr":
      if (v !== "unix" && parseCidr(v) === undefined) {
        throw new ConfigError(`${option}: expected an IPv4 or IPv6 CIDR such as 10.0.0.0/8 or fd00::/8 (or unix), got "${v}"`);
      }
      return v;
    case "choice":
      if (!spec.choices!.includes(v)) throw new ConfigError(`${option}: expected ${spec.choices!.join(" or ")}, got "${v}"`);
      return v;
    default:
      return v;
  }
}

/** An address range: the address as 16 bytes (IPv4 as IPv4-mapped IPv6) and the prefix length
 *  counted over those 16 bytes. */
export interface Cidr {
  bytes: Uint8Array;
  prefix: number;
}

/** `10.0.0.0/8`, `fd00::/8`, or a bare address (a /32 or /128); undefined if it is neither. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf("/");
  const addr = slash < 0 ? text : text.slice(0, slash);
  const bytes = parseAddress(addr);
  if (!bytes) return undefined;
  const v4 = !addr.includes(":");
  const max = v4 ? 32 : 128;
  const bits = slash < 0 ? String(max) : text.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(bits) || Number(bits) > max) return undefined;
  return { bytes, prefix: Number(bits) + (v4 ? 96 : 0) };
}

/** An IPv4 or IPv6 address as 16 bytes (IPv4 as ::ffff:a.b.c.d); undefined if it is neither. */
export function parseAddress(addr: string): Uint8Array | undefined {
  const out = new Uint8Array(16);
  const v4 = (s: string, at: number): boolean => {
    const parts = s.split(".");
    if (parts.length !== 4 || parts.some((p) => !/^[0-9]{1,3}$/.test(p) || Number(p) > 255)) return false;
    parts.forEach((p, i) => (out[at + i] = Number(p)));
    return true;
  };
  if (!addr.includes(":")) {
    out[10] = out[11] = 0xff;
    return v4(addr, 12) ? out : undefined;
  }
  const zone = addr.indexOf("%");
  if (zone >= 0) addr = addr.slice(0, zone);
  const halves = addr.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string): string[] => (s === "" ? [] : s.split(":"));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  // A trailing dotted quad counts as two groups.
  const all = [...head, ...tail];
  const dotted = all.length > 0 && all[all.length - 1].includes(".");
  const count = all.length + (dotted ? 1 : 0);
  if (halves.length === 1 ? count !== 8 : count > 7) return undefined;
  const put = (list: string[], at: number): boolean => {
    for (let i = 0; i < list.length; i++) {
      const g = list[i];
      if (g.includes(".")) {
        if (i !== list.length - 1 || !v4(g, at + i * 2)) return false;
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return false;
        const n = parseInt(g, 16);
        out[at + i * 2] = n >> 8;
        out[at + i * 2 + 1] = n & 0xff;
      }
    }
    return true;
  };
  if (!put(head, 0)) return undefined;
  if (!put(tail, 16 - (tail.length + (dotted ? 1 : 0)) * 2)) return undefined;
  return out;
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
  const rows = OPTIONS.map((o: OptionSpec) => {
    const names = `${o.short ? `-${o.short}, ` : "    "}--${o.long} ${o.arg}`;
    const shown = o.defaultText ?? (Array.isArray(o.default) ? o.default.join(", ") : o.default);
    const def = shown === undefined ? "" : ` (default: ${shown})`;
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
    "Signals: TERM/INT/QUIT graceful stop, HUP graceful reload, USR1 stop paced by --spawn-interval,",
    "USR2 reopen the access log (after logrotate).",
  ].join("\n");
}
