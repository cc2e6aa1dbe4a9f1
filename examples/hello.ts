// A TypeScript app, run as it is: `bun dist/cli.js examples/hello.ts`,
// `deno run -A dist/cli.js examples/hello.ts`, or Node 22.18+ (24, 26), which strip the types.
import type { ServeInfo } from "pronghorn";

export default {
  fetch(request: Request, info: ServeInfo): Response {
    const { pathname } = new URL(request.url);
    return new Response(`Hello ${pathname} from worker ${info.worker.id} (TypeScript)\n`);
  },
};
