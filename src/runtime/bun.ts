/**
 * The Bun runtime: the process basics (process-host.ts), the supervisor half (bun-supervisor.ts:
 * sockets made through bun:ffi, workers started with Bun.spawn) and the worker half
 * (worker-channel.ts and bun-net.ts: IPC, signals, `Bun.listen` on the inherited fds) joined
 * into one `Runtime`. `Bun.version` is what it reports, never `process.versions.node` (Bun's
 * Node-compatibility version).
 */
import type { BunApi } from "./bun-api.js";
import type { Runtime } from "./runtime.js";
import { processHost } from "./process-host.js";
import { bunSupervisor } from "./bun-supervisor.js";
import { bunListen } from "./bun-net.js";
import { connectSupervisor, onWorkerSignal, readWorkerContext } from "./worker-channel.js";
import { openLog } from "./log-file.js";
import { onProcessUncaughtError } from "./uncaught-errors.js";

const Bun = (globalThis as unknown as { Bun: BunApi }).Bun;

export const bunRuntime: Runtime = {
  ...processHost("bun", Bun.version),
  ...bunSupervisor,
  workerContext: readWorkerContext,
  connectSupervisor,
  listen: bunListen,
  onWorkerSignal,
  onUncaughtError: onProcessUncaughtError,
  openLog,
};
