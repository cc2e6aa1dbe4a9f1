// @hono/node-server serving bench/http/app.mjs (its defaults: the lightweight Request/Response).
import { serve } from "@hono/node-server";
import app from "./app.mjs";

const port = Number(process.argv[2]);
serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, () => console.log("ready"));
