// info.retire(): the worker finishes the response it is sending (and any others in flight),
// stops accepting and exits; the supervisor starts a fresh one in its place (Gazelle's
// psgix.harakiri). Here a worker retires once it has grown past RETIRE_RSS_MB of memory, the
// usual cure for a slow leak; --max-reqs-per-child does the same by request count.
//
//   RETIRE_RSS_MB=200 pronghorn examples/retire.js
import process from "node:process";

const LIMIT = Number(process.env.RETIRE_RSS_MB ?? 256) * 1024 * 1024;

export default {
  fetch(request, info) {
    const rss = process.memoryUsage.rss();
    if (rss > LIMIT) info.retire(); // takes effect after this response
    return new Response(`worker ${info.worker.id} pid ${info.worker.pid}, rss ${Math.round(rss / 1048576)} MB${rss > LIMIT ? ", retiring" : ""}\n`);
  },
};
