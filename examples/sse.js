// Server-sent events: one `text/event-stream` response that stays open and gets an event every
// second (`curl -N localhost:5000/`, or `new EventSource("/")` in a browser). The stream is sent
// chunked as the app produces it; it ends when the client goes away (request.signal) or after
// EVENTS events, and a reconnecting EventSource resumes after the last id it saw.
import process from "node:process";

const EVENTS = Number(process.env.SSE_EVENTS ?? 60);
const INTERVAL_MS = Number(process.env.SSE_INTERVAL_MS ?? 1000);
const encoder = new TextEncoder();

export default {
  fetch(request, info) {
    // EventSource sends the id of the last event it received when it reconnects.
    let id = Number(request.headers.get("last-event-id") ?? 0) || 0;
    const last = id + EVENTS;
    let timer;
    const stream = new ReadableStream({
      start(controller) {
        // `retry` tells the browser how long to wait before reconnecting (ms).
        controller.enqueue(encoder.encode(`retry: 2000\n: served by worker ${info.worker.id}\n\n`));
        const tick = () => {
          if (request.signal.aborted) return;
          id++;
          const data = JSON.stringify({ time: new Date().toISOString(), worker: info.worker.id });
          controller.enqueue(encoder.encode(`id: ${id}\nevent: tick\ndata: ${data}\n\n`));
          if (id >= last) controller.close();
          else timer = setTimeout(tick, INTERVAL_MS);
        };
        timer = setTimeout(tick, 0);
        request.signal.addEventListener("abort", () => clearTimeout(timer));
      },
      cancel() {
        clearTimeout(timer);
      },
    });
    return new Response(stream, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        // nginx: pass each event on at once instead of buffering the response.
        "x-accel-buffering": "no",
      },
    });
  },
};
