/**
 * Checks around a bind, the same on every runtime: refuse a unix socket path the kernel would
 * mangle, replace a socket file left by a dead server but never a live one, and remove our own
 * file on exit only if it is still ours.
 */
import net from "node:net";
import dns from "node:dns/promises";
import fs from "node:fs";
import path from "node:path";
import type { BoundListener, ListenTarget } from "./runtime.js";

/** sockaddr_un's sun_path is 108 bytes on Linux, NUL included. */
export const SUN_PATH_MAX = 107;

/** What libuv would get wrong: it reports a missing directory as EACCES, and the libuv in Node
 *  20 truncates a long path silently (binding, and leaving, a file at the truncated path). */
export function checkSocketPath(p: string): void {
  const bytes = new TextEncoder().encode(p).length;
  if (bytes > SUN_PATH_MAX) {
    throw new Error(`pronghorn: cannot listen on unix:${p}: the path is ${bytes} bytes long, over the ${SUN_PATH_MAX}-byte limit of a unix socket path`);
  }
  const dir = path.dirname(p);
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new Error(`pronghorn: cannot listen on unix:${p}: the directory ${dir} does not exist`);
  }
  if (!st.isDirectory()) throw new Error(`pronghorn: cannot listen on unix:${p}: ${dir} is not a directory`);
}

/** A socket file left by a dead server is replaced; a live one is an error. */
export async function removeStaleSocket(p: string): Promise<void> {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new Error(`pronghorn: cannot listen on unix:${p}: the file exists and is not a socket`);
  const alive = await new Promise<boolean | string>((resolve) => {
    const s = net.connect(p);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", (e: NodeJS.ErrnoException) => resolve(e.code === "ECONNREFUSED" || e.code === "ENOENT" ? false : String(e.code)));
  });
  if (alive === true) throw new Error(`pronghorn: cannot listen on unix:${p}: another server is accepting connections there`);
  if (typeof alive === "string") throw new Error(`pronghorn: cannot listen on unix:${p}: ${alive}`);
  fs.unlinkSync(p);
}

/** After binding `p`: a function that removes the file only while it is still the one we bound
 *  (a newer server may have replaced it), also run on exit. */
export function socketFileRemover(p: string): () => void {
  const ino = fs.statSync(p).ino;
  const remove = () => {
    try {
      if (fs.lstatSync(p).ino === ino) fs.unlinkSync(p);
    } catch {
      // already gone
    }
  };
  process.once("exit", remove);
  return remove;
}

/** An inherited fd must be an open socket: anything else would only fail in every worker (a
 *  pipe even adopts as a "listener"). Deno's fstatSync refuses inherited fds it did not open;
 *  /proc/self/fd answers for them. */
export function checkInheritedSocket(fd: number, describe: string): void {
  let st: fs.Stats;
  try {
    st = fs.fstatSync(fd);
  } catch {
    try {
      st = fs.statSync(`/proc/self/fd/${fd}`);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Deno without -A may not look into /proc (NotCapable, no code): adopting the fd is the
      // check then (Deno refuses to adopt what is not a socket).
      if (code === undefined) return;
      throw new Error(`pronghorn: cannot use ${describe}: ${code === "ENOENT" || code === "EBADF" ? "the fd is not open" : code}`);
    }
  }
  if (!st.isSocket()) throw new Error(`pronghorn: cannot use ${describe}: not a socket`);
}

/** How a target reads in an error line. */
export function describeTarget(t: ListenTarget): string {
  if (t.kind === "tcp") return t.host.includes(":") ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
  if (t.kind === "unix") return `unix:${t.path}`;
  return `inherited fd ${t.fd} (${t.name})`;
}

/** Bind every target in order; if one fails, close the ones already bound and rethrow. */
export async function bindAll(targets: readonly ListenTarget[], bindOne: (t: ListenTarget) => Promise<BoundListener>): Promise<BoundListener[]> {
  const bound: BoundListener[] = [];
  try {
    for (const t of targets) bound.push(await bindOne(t));
  } catch (err) {
    for (const b of bound) b.close();
    throw err;
  }
  return bound;
}

/** The address and family to bind for a tcp target: an IP as it is, a host name looked up. */
export async function resolveHost(t: Extract<ListenTarget, { kind: "tcp" }>): Promise<{ address: string; family: 4 | 6 }> {
  const family = net.isIP(t.host);
  if (family !== 0) return { address: t.host, family: family as 4 | 6 };
  try {
    const found = await dns.lookup(t.host);
    return { address: found.address, family: found.family as 4 | 6 };
  } catch (err) {
    throw new Error(`pronghorn: cannot listen on ${describeTarget(t)}: cannot resolve "${t.host}" (${(err as NodeJS.ErrnoException).code})`);
  }
}
