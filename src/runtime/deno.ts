/** Placeholder while the deno runtime is being written: refuses to start. */
import type { Runtime } from "./runtime.js";

export const denoRuntime: Runtime = new Proxy({} as Runtime, {
  get() {
    throw new Error("pronghorn: running on deno is not supported yet; run it with node");
  },
});
