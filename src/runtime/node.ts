/**
 * The Node runtime: the process basics (process-host.ts), the supervisor half
 * (node-supervisor.ts: bound sockets, spawning) and the worker half (worker-channel.ts and
 * node-net.ts: IPC, signals, accepting and moving bytes) joined into one `Runtime`.
 */
import type { Runtime } from "./runtime.js";
import { processHost } from "./process-host.js";
import { nodeSupervisor } from "./node-supervisor.js";
import { nodeListen } from "./node-net.js";
import { directStreams } from "./node-handle.js";
import { connectSupervisor, onWorkerSignal, readWorkerContext } from "./worker-channel.js";
import { openLog } from "./log-file.js";
import { onProcessUncaughtError } from "./uncaught-errors.js";
import { undiciBodySource } from "./undici-body.js";

export const nodeRuntime: Runtime = {
  ...processHost("node", process.versions.node),
  ...nodeSupervisor,
  workerContext: readWorkerContext,
  connectSupervisor,
  listen: (handed, options, accept) => nodeListen(handed, options, accept, options.directHandles ? directStreams() : null),
  onWorkerSignal,
  onUncaughtError: onProcessUncaughtError,
  openLog,
  platformBody: undiciBodySource,
};
