// @hono/node-server serving bench/http/app.mjs (its defaults: the lightweight Request/Response).
import { serve } from "@hono/node-server";
import app from "./app.mjs";

serve({ fetch: app.fetch, port: Number(process.argv[2] ?? 0), hostname: "127.0.0.1" }, (info) => console.log(`ready ${info.port}`));
