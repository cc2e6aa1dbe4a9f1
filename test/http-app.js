// The app the HTTP black-box suites (test/http-*.test.js) run, one route per behaviour under
// test, and small helpers to start it. Not a test file itself.
import { startServer, writeApp, rawExchange, splitResponses } from "./harness.js";

export const APP_SOURCE = String.raw`
let aborted = 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export default {
  async fetch(request, info) {
    const url = new URL(request.url);
    const q = url.searchParams;
    switch (url.pathname) {
      case "/hello": return new Response("hello");
      case "/info": return Response.json({
        method: request.method, url: request.url, headers: [...request.headers],
        isRequest: request instanceof Request, remote: info.remoteAddr, ip: info.requestIP(request),
        worker: info.worker, bodyUsed: request.bodyUsed, hasBody: request.body !== null,
      });
      case "/echo": return new Response(request.body, { headers: { "content-type": "application/octet-stream" } });
      case "/text": { const t = await request.text(); return Response.json({ length: t.length, head: t.slice(0, 16), tail: t.slice(-16) }); }
      case "/json": return Response.json({ got: await request.json() });
      case "/bytes-in": { const b = new Uint8Array(await request.arrayBuffer()); let sum = 0; for (const x of b) sum = (sum + x) % 65521; return Response.json({ length: b.length, sum }); }
      case "/form": { const f = await request.formData(); return Response.json([...f].map(([k, v]) => [k, typeof v === "string" ? v : v.name])); }
      case "/bytes": return new Response(new Uint8Array(Number(q.get("n") ?? 10)).fill(97));
      case "/big": return new Response("é".repeat(Number(q.get("n") ?? 100000)));
      case "/stream": {
        const n = Number(q.get("n") ?? 3), size = Number(q.get("size") ?? 5);
        let i = 0;
        return new Response(new ReadableStream({ async pull(c) {
          if (i++ === n) return c.close();
          await sleep(1);
          c.enqueue(new Uint8Array(size).fill(98));
        } }));
      }
      case "/stream-length": return new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("abc")); c.close(); } }), { headers: { "content-length": "3" } });
      case "/throw": throw new Error("boom from the app");
      case "/nonresponse": return { not: "a response" };
      case "/crlf": return new Response("x", { headers: { "x-bad": "a\r\nx-injected: yes" } });
      case "/cookies": return new Response("c", { headers: [["set-cookie", "a=1; Path=/"], ["set-cookie", "b=2; Path=/"]] });
      case "/204": return new Response(null, { status: 204 });
      case "/304": return new Response(null, { status: 304, headers: { etag: '"x"' } });
      case "/status": return new Response("s", { status: Number(q.get("s")), statusText: q.get("t") ?? "" });
      case "/slow": await sleep(Number(q.get("ms") ?? 100)); return new Response("slow " + q.get("id"));
      case "/early": info.informational(103, { link: "</a.css>; rel=preload" }); return new Response("after hints");
      case "/retire": info.retire(); return new Response("retiring " + info.worker.pid);
      case "/pid": return new Response(String(info.worker.pid));
      case "/ignore-body": return new Response("ignored");
      case "/native": return Response.redirect("http://example.com/", 302);
      case "/wait-abort": await new Promise((r) => request.signal.addEventListener("abort", r)); aborted++; return new Response("late");
      case "/aborted": return new Response(String(aborted));
      case "/mutate": { const r = new Response("m"); r.headers.set("x-added", "1"); return r; }
      case "/clone": { const c = request.clone(); const [a, b] = await Promise.all([request.text(), c.text()]); return new Response(a + "|" + b); }
      default: return new Response("not found", { status: 404 });
    }
  },
};
`;

let appPath;
export function appFile() {
  return appPath ??= writeApp(APP_SOURCE, "http-app.mjs");
}

/** Start pronghorn with one worker on a free port with the test app and extra options. */
export function startApp(args = [], options = {}) {
  return startServer(["--workers", "1", "--host", "127.0.0.1", "--port", "0", "-E", "production", ...args, appFile()], options);
}

/** Send raw bytes and split what comes back into responses. */
export async function exchange(server, bytes, opts = {}) {
  const r = await rawExchange(server, bytes, opts);
  return { ...r, responses: splitResponses(r.text, { headRequests: opts.headRequests }) };
}

/** A complete-response predicate for rawExchange: `count` final responses have arrived. */
export function responses(count, headRequests = []) {
  return (text) => {
    // splitResponses loops forever on a chunked body cut short: wait for every terminator first.
    const chunkedHeads = (text.match(/transfer-encoding: chunked\r\n/gi) ?? []).length;
    const terminators = (text.match(/\r\n0\r\n\r\n/g) ?? []).length;
    if (terminators < chunkedHeads) return false;
    try {
      const all = splitResponses(text, { headRequests });
      const whole = all.every((r, i) => headRequests.includes(i) || !r.headers["content-length"] || r.body.length === Number(r.headers["content-length"][0]));
      return whole && all.filter((r) => !r.interim).length >= count;
    } catch {
      return false;
    }
  };
}
