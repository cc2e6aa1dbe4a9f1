// Bun.serve on a unix socket (for nginx.mjs), serving bench/http/app.mjs.
import app from "../app.mjs";

const file = process.argv[2];
if (!file) throw new Error("usage: bun bun-serve-unix.mjs /path/to.sock");
Bun.serve({ fetch: app.fetch, unix: file });
console.log(`ready unix:${file}`);
