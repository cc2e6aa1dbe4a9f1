// A CPU-heavy fetch app (for cluster.mjs): every request spins for BENCH_BURN_MS milliseconds
// of CPU (default 1.5) and answers with the pid of the process that served it in `x-worker`.
const burnMs = Number(process.env.BENCH_BURN_MS ?? 1.5);
const pid = String(process.pid);

export function burn(ms) {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) for (let i = 0; i < 1000; i++) x = (x * 31 + i) | 0;
  return x;
}

export default {
  fetch() {
    burn(burnMs);
    return new Response("Hello, World!", { headers: { "x-worker": pid } });
  },
};
