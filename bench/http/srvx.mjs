// srvx's Node adapter serving bench/http/app.mjs.
import { serve } from "srvx/node";
import app from "./app.mjs";

const server = serve({ fetch: app.fetch, port: Number(process.argv[2] ?? 0), hostname: "127.0.0.1", silent: true });
await server.ready();
console.log(`ready ${new URL(server.url).port}`);
