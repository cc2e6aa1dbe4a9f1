/** Placeholder while the bun runtime is being written: refuses to start. */
import type { Runtime } from "./runtime.js";

export const bunRuntime: Runtime = new Proxy({} as Runtime, {
  get() {
    throw new Error("pronghorn: running on bun is not supported yet; run it with node");
  },
});
