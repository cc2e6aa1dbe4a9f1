// Deno.serve on a unix socket (for nginx.mjs), serving bench/http/app.mjs.
import app from "../app.mjs";

const file = Deno.args[0];
if (!file) throw new Error("usage: deno run -A deno-serve-unix.mjs /path/to.sock");
Deno.serve({ transport: "unix", path: file, onListen: () => console.log(`ready unix:${file}`) }, app.fetch);
