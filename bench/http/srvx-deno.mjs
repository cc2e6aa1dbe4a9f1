// srvx's Deno adapter serving bench/http/app.mjs (run with deno run -A).
import { serve } from "srvx/deno";
import app from "./app.mjs";

const server = serve({ fetch: app.fetch, port: Number(Deno.args[0] ?? 0), hostname: "127.0.0.1", silent: true });
await server.ready();
console.log(`ready ${new URL(server.url).port}`);
