// srvx's Bun adapter serving bench/http/app.mjs (run with bun).
import { serve } from "srvx/bun";
import app from "./app.mjs";

const server = serve({ fetch: app.fetch, port: Number(process.argv[2] ?? 0), hostname: "127.0.0.1", silent: true });
await server.ready();
console.log(`ready ${new URL(server.url).port}`);
