/**
 * The process-level basics every runtime shares through its `process` global (Node's, and Bun's
 * and Deno's Node-compatible one): pid, a monotonic clock, timers, a stderr line, exit.
 */
import type { Clock, Host, RuntimeName, Timer } from "./runtime.js";

export const processClock: Clock = {
  now: () => performance.now(),
  setTimer(ms: number, fn: () => void): Timer {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
  every(ms: number, fn: () => void): Timer {
    const t = setInterval(fn, ms);
    // Listening sockets and open connections keep a worker alive, never a sweeper.
    (t as { unref?: () => void }).unref?.();
    return { cancel: () => clearInterval(t) };
  },
};

export function processHost(name: RuntimeName, version: string): Host {
  return {
    ...processClock,
    name,
    version: `${name} ${version}`,
    pid: process.pid,
    log(line: string): void {
      process.stderr.write(line + "\n");
    },
    exit(code: number): void {
      process.exit(code);
    },
  };
}
