/**
 * The Node runtime: `node-net.ts` (listening, zero-copy reads into wasm memory, writes) and
 * `node-process.ts` (workers, inherited fds, signals, IPC) joined into one `Runtime`.
 */
import type { Runtime } from "./runtime.js";
import { nodeNet } from "./node-net.js";
import { nodeProcess } from "./node-process.js";

export const nodeRuntime: Runtime = { name: "node", ...nodeNet, ...nodeProcess };
