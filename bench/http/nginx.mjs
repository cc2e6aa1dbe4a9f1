// Behind nginx: pronghorn as Gazelle is meant to run, with nginx in front on a TCP loopback port
// and the app server behind it on a unix socket, against the raw server of the same runtime.
//
// Per runtime group (--runtimes; default: all installed), three backends on unix sockets:
//   pronghorn        `dist/cli.js bench/http/app.mjs --listen DIR/x.sock --workers 1 -E production`
//   pronghorn ka=0   the same with --keepalive-timeout 0 (Gazelle mode: Connection: close always)
//   peer             node:http (peers/node-http-unix.mjs; node20/24/26), Bun.serve({ unix })
//                    (peers/bun-serve-unix.mjs; bun), Deno.serve({ path }) (peers/deno-serve-unix.mjs; deno)
// and one nginx (worker_processes 1, foreground child, own temp prefix and config, error log in
// the temp dir, access_log off) with two front ports per backend, one per upstream variant:
//   close       nginx's default: proxy_http_version 1.0, a new upstream connection per request
//   keepalive   `upstream { keepalive 16; }`, proxy_http_version 1.1, proxy_set_header Connection ""
// wrk -t1 -cN keeps its connections to nginx alive in both. A round runs every backend once per
// variant, in an order rotated each round. Reported: median req/s per configuration, and the
// ratios pronghorn / peer and pronghorn ka=0 / peer per variant (ratio of the medians, with the
// range of the per-round ratios).
//
//   node bench/http/nginx.mjs [--runtimes node20,node24,node26,bun,deno] [--rounds 5]
//        [--duration 3] [--connections 50] [--warmup 1] [--variants close,keepalive]
//        [--write] [--out FILE]
//
// --write replaces the generated part of bench/http/nginx.md (between its results markers);
// --out FILE writes the report alone to FILE. Needs nginx, wrk and a built dist/.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as L from "./lib.mjs";

const SCRIPT = "nginx.mjs";
const argv = process.argv.slice(2);
const { opts, num, list, usage } = L.parseArgs(SCRIPT, argv, ["runtimes", "rounds", "duration", "connections", "warmup", "variants", "out"], ["write"], [
  "usage: node bench/http/nginx.mjs [--runtimes node20,node24,node26,bun,deno] [--rounds 5]",
  "         [--duration 3] [--connections 50] [--warmup 1] [--variants close,keepalive]",
  "         [--write] [--out FILE]",
]);
const ROUNDS = Math.floor(num("rounds", 5, 1));
const DURATION = Math.floor(num("duration", 3, 1));
const CONNECTIONS = Math.floor(num("connections", 50, 1));
const WARMUP = Math.floor(num("warmup", 1, 0));
const VARIANTS = list("variants", "close,keepalive", ["close", "keepalive"]);
const RESULTS = path.join(L.HERE, "nginx.md");
const NGINX = ["/usr/sbin/nginx", "nginx"].find((n) => (n.startsWith("/") ? fs.existsSync(n) : L.hasTool(n)));

const APP = path.join(L.HERE, "app.mjs");
const peer = (f) => path.join(L.HERE, "peers", f);
const pronghornArgs = (sock, extra = []) => [L.CLI, APP, "--listen", sock, "--workers", "1", "-E", "production", ...extra];

/** The backends of a group, given its binary: [key, name, (sock) => [cmd, args]]. */
function backends(kind, bin) {
  const pre = kind === "deno" ? ["run", "-A"] : [];
  const peerEntry = {
    node: ["peer", "node:http", (s) => [bin, [peer("node-http-unix.mjs"), s]]],
    bun: ["peer", "Bun.serve", (s) => [bin, [peer("bun-serve-unix.mjs"), s]]],
    deno: ["peer", "Deno.serve", (s) => [bin, ["run", "-A", peer("deno-serve-unix.mjs"), s]]],
  }[kind];
  return [
    ["pronghorn", "pronghorn", (s) => [bin, [...pre, ...pronghornArgs(s)]]],
    ["ka0", "pronghorn --keepalive-timeout 0", (s) => [bin, [...pre, ...pronghornArgs(s, ["--keepalive-timeout", "0"])]]],
    peerEntry,
  ].map(([key, name, cmd]) => ({ key, name, cmd }));
}
const GROUPS = {
  node20: { kind: "node", find: () => L.findNode(20) },
  node24: { kind: "node", find: () => L.findNode(24) },
  node26: { kind: "node", find: () => L.findNode(26) },
  bun: { kind: "bun", find: () => L.findBin("bun") },
  deno: { kind: "deno", find: () => L.findBin("deno") },
};
const requested = list("runtimes", Object.keys(GROUPS).join(","), Object.keys(GROUPS));
L.requireBuild(SCRIPT);
if (!NGINX) {
  console.error(`${SCRIPT}: nginx is missing: run \`bash scripts/install-test-tools.sh\` (nginx-light)`);
  process.exit(2);
}
L.installCleanup(SCRIPT);

// ---------- nginx ----------

function nginxConf(dir, routes) {
  const user = process.getuid?.() === 0 ? "user root;\n" : ""; // as root, workers would drop to nobody and not reach the sockets
  let upstreams = "";
  let servers = "";
  for (const r of routes) {
    const ka = r.variant === "keepalive";
    upstreams += `  upstream ${r.name} {\n    server unix:${r.sock};\n${ka ? "    keepalive 16;\n" : ""}  }\n`;
    servers += `  server {\n    listen 127.0.0.1:${r.port};\n    location / {\n      proxy_pass http://${r.name};\n`;
    if (ka) servers += `      proxy_http_version 1.1;\n      proxy_set_header Connection "";\n`;
    servers += `    }\n  }\n`;
  }
  return `${user}worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events {
  worker_connections 4096;
}
http {
  access_log off;
  # the front side (wrk <-> nginx) stays keep-alive for the whole run
  keepalive_requests 1000000;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${upstreams}${servers}}
`;
}

/** nginx in the foreground, in its own process group; resolves its process once every front port answers. */
async function startNginx(dir, routes) {
  const conf = path.join(dir, "nginx.conf");
  const log = path.join(dir, "error.log");
  fs.writeFileSync(conf, nginxConf(dir, routes));
  const proc = L.spawnGroup(NGINX, ["-p", dir, "-c", conf, "-e", log, "-g", "daemon off;"]);
  let out = "";
  let failed = null;
  proc.stdout.on("data", (c) => (out += c));
  proc.stderr.on("data", (c) => (out += c));
  proc.once("error", (e) => (failed = e.message));
  proc.once("exit", (code, sig) => (failed = `exited (${sig ?? code})`));
  // nginx prints nothing when it is up: its ports answering is the ready signal
  try {
    await waitForPorts();
  } catch (e) {
    await L.stop(proc);
    throw e;
  }
  return proc;

  async function waitForPorts() {
    for (const route of routes) {
      for (let tries = 0; ; tries++) {
        if (failed) throw new Error(`nginx did not start: ${failed}: ${L.firstLine(out) || readTail(log)}`);
        try {
          await L.get(`http://127.0.0.1:${route.port}/`, { timeoutMs: 5000 });
          break;
        } catch (e) {
          if (tries === 50) throw new Error(`nginx: port ${route.port} does not answer: ${e.message} ${readTail(log)}`);
          await new Promise((res) => setTimeout(res, 100));
        }
      }
    }
  }
}
function readTail(file) {
  try {
    return L.firstLine(fs.readFileSync(file, "utf8").split("\n").slice(-3).join("\n"));
  } catch {
    return "";
  }
}
/** Lines of level error or worse that nginx logged since `offset`; returns [count, newOffset, first]. */
function errorLines(file, offset) {
  let text = "";
  try {
    const fd = fs.openSync(file, "r");
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.max(0, size - offset));
    fs.readSync(fd, buf, 0, buf.length, offset);
    fs.closeSync(fd);
    text = buf.toString("utf8");
    offset = size;
  } catch {}
  const bad = text.split("\n").filter((l) => /\[(error|crit|alert|emerg)\]/.test(l));
  return [bad.length, offset, bad[0]?.replace(/^\S+ \S+ /, "").slice(0, 200)];
}

// ---------- run ----------

const startedAt = new Date();
const distAtStart = L.distBuilt();
const runs = [];
{
  const est = requested.length * 3 * (WARMUP + ROUNDS * VARIANTS.length * (DURATION + 0.2));
  console.error(`${SCRIPT}: ${requested.join(", ")}; ${ROUNDS} rounds × ${VARIANTS.join(" + ")} × 3 backends × ${DURATION} s; about ${Math.ceil(est / 60)} min of load`);
}

for (const key of requested) {
  const g = GROUPS[key];
  const found = g.find();
  const group = { key, label: found?.label ?? key, bin: found?.bin, backends: [], load: [os.loadavg()[0]], busy: [] };
  runs.push(group);
  if (!found) {
    group.missing = `${key} is not installed`;
    console.error(`${SCRIPT}: ${group.missing}; skipped`);
    continue;
  }
  console.error(`\n== ${group.label} (${found.bin})`);
  const dir = L.makeTempDir("pronghorn-nginx-");
  let nginx = null;
  group.backends = backends(g.kind, found.bin).map((b) => ({ ...b, sock: path.join(dir, `${b.key}.sock`), rps: {}, errors: {}, nginxErrors: {} }));
  try {
    for (const b of group.backends) {
      const [cmd, args] = b.cmd(b.sock);
      const r = await L.start(cmd, args);
      b.proc = r.proc;
      if (r.error) b.error = `did not start: ${r.error}`;
      else {
        try {
          await L.checkHello("http://localhost/", { socketPath: b.sock });
        } catch (e) {
          b.error = `failed its check: ${e.message}`;
        }
      }
      if (b.error) {
        console.error(`${b.name}: ${b.error}`);
        await L.stop(b.proc);
      } else console.error(`${b.name}: up on unix:${b.sock}`);
    }
    const up = group.backends.filter((b) => !b.error);
    const routes = [];
    for (const b of up) {
      b.ports = {};
      for (const variant of VARIANTS) {
        const port = await L.freePort();
        b.ports[variant] = port;
        routes.push({ name: `${b.key}_${variant}`, sock: b.sock, port, variant });
      }
    }
    if (!routes.length) throw new Error("no backend started");
    const errorLog = path.join(dir, "error.log");
    nginx = await startNginx(dir, routes);
    group.nginx = L.version(NGINX, ["-v"]) ?? L.sh(`${NGINX} -v 2>&1`);
    console.error(`nginx: up (pid ${nginx.pid}) on ports ${routes.map((r) => r.port).join(", ")}`);
    for (const b of up) {
      for (const variant of VARIANTS) {
        try {
          await L.checkHello(`http://127.0.0.1:${b.ports[variant]}/`);
        } catch (e) {
          b.error = `failed its check behind nginx (${variant}): ${e.message}`;
          console.error(`${b.name}: ${b.error}`);
        }
      }
    }
    const active = up.filter((b) => !b.error);
    const wrkArgs = (port, seconds) => ["-t1", `-c${CONNECTIONS}`, `-d${seconds}s`, `http://127.0.0.1:${port}/`];
    let logOffset = errorLines(errorLog, 0)[1];
    if (WARMUP > 0) for (const b of active) for (const v of VARIANTS) await L.wrk(wrkArgs(b.ports[v], WARMUP), WARMUP);
    logOffset = errorLines(errorLog, logOffset)[1];
    for (let round = 0; round < ROUNDS; round++) {
      for (const variant of VARIANTS) {
        for (const b of L.rotate(active, round)) {
          const m0 = L.machineTicks();
          const r = await L.wrk(wrkArgs(b.ports[variant], DURATION), DURATION);
          const busy = L.busyShare(m0, L.machineTicks());
          group.busy.push(busy);
          const [nErr, off, first] = errorLines(errorLog, logOffset);
          logOffset = off;
          if (nErr) (b.nginxErrors[variant] ??= []).push(`${nErr} lines, e.g. ${first}`);
          (b.rps[variant] ??= []).push(r.rps);
          if (r.errors.length) (b.errors[variant] ??= []).push(r.errors.join("; "));
          console.error(
            `${variant} round ${round + 1} ${b.name}: ${Math.round(r.rps)} req/s (machine busy ${L.pct(busy)})${r.errors.length ? ` [${r.errors.join("; ")}]` : ""}${nErr ? ` [nginx logged ${nErr} errors: ${first}]` : ""}`,
          );
        }
      }
    }
  } catch (e) {
    group.failure = e.message;
    console.error(`${SCRIPT}: ${group.label}: ${e.message}`);
  } finally {
    await L.stop(nginx);
    for (const b of group.backends) await L.stop(b.proc);
    L.removeTempDir(dir);
  }
  group.load.push(os.loadavg()[0]);
}

// ---------- report ----------

const varTitle = {
  close: "new upstream connection per request (nginx default, HTTP/1.0)",
  keepalive: "keep-alive upstream (`keepalive 16`, HTTP/1.1)",
};
let md = "";
md += `| runtime | upstream | pronghorn req/s | pronghorn ka=0 req/s | peer | peer req/s | pronghorn / peer | pronghorn ka=0 / peer |\n`;
md += `|---|---|---:|---:|---|---:|---:|---:|\n`;
const notes = [];
for (const g of runs) {
  const rt = `${g.label}<br>load ${g.load.map((x) => x.toFixed(2)).join(" → ")}`;
  if (g.missing || (g.failure && !g.backends.some((b) => Object.keys(b.rps).length))) {
    md += `| ${g.key} | ${(g.missing ?? g.failure).replace(/\|/g, "\\|")} | | | | | | |\n`;
    continue;
  }
  if (g.failure) notes.push(`${g.label}: stopped early: ${g.failure}`);
  const [p, k, q] = ["pronghorn", "ka0", "peer"].map((key) => g.backends.find((b) => b.key === key));
  for (const b of g.backends) if (b.error) notes.push(`${g.label} ${b.name}: ${b.error}`);
  const cell = (b, v) => (b && !b.error ? L.fmtRps(L.median(b.rps[v] ?? [])) : "—");
  const ratio = (a, v) => (a && !a.error && q && !q.error ? L.ratioCell(a.rps[v] ?? [], q.rps[v] ?? []) : "—");
  for (const [i, v] of VARIANTS.entries()) {
    md += `| ${i === 0 ? rt : ""} | ${varTitle[v]} | ${cell(p, v)} | ${cell(k, v)} | ${q?.name ?? "—"} | ${cell(q, v)} | ${ratio(p, v)} | ${ratio(k, v)} |\n`;
  }
  for (const b of g.backends) {
    for (const [v, es] of Object.entries(b.errors)) notes.push(`${g.label} ${b.name}, ${v}: wrk reported in ${es.length} of ${ROUNDS} runs: ${es[0]}`);
    for (const [v, es] of Object.entries(b.nginxErrors)) notes.push(`${g.label} ${b.name}, ${v}: nginx logged errors in ${es.length} of ${ROUNDS} runs: ${es[0]}`);
  }
}
if (notes.length) md += `\n${notes.map((n) => `- ${n}`).join("\n")}\n`;

const nginxVersion = runs.find((g) => g.nginx)?.nginx ?? L.sh(`${NGINX} -v 2>&1`);
const busyAll = runs.flatMap((g) => g.busy);
md += `\n**How it was made.** \`${L.commandLine("bench/http/nginx.mjs", argv)}\` on ${L.isoSecond(startedAt)} (${Math.round((Date.now() - startedAt) / 1000)} s), `;
md += `on ${L.machine()}. Runtimes: ${runs.map((g) => (g.bin ? `${g.key} = ${g.label} (\`${L.relRoot(g.bin)}\`)` : `${g.key}: not installed`)).join("; ")}. `;
md += `pronghorn ${L.pronghornBuild(distAtStart)}, one supervisor + one worker (\`--workers 1 -E production\`), on a unix socket, serving bench/http/app.mjs; the peer serves the same body on a unix socket. `;
md += `${nginxVersion.replace(/^nginx version: /, "")}, \`worker_processes 1\`, \`access_log off\`, front \`keepalive_requests 1000000\`, on a 127.0.0.1 port per backend and upstream variant; `;
md += `the default variant is nginx's own (\`proxy_http_version 1.0\`: a new upstream connection per request, what Gazelle is built for), the keep-alive variant adds \`upstream { keepalive 16; }\`, \`proxy_http_version 1.1\` and \`proxy_set_header Connection ""\`. `;
md += `Load: ${L.wrkVersion()}, \`wrk -t1 -c${CONNECTIONS} -d${DURATION}s\` against nginx (keep-alive to nginx); ${WARMUP > 0 ? `a ${WARMUP} s warm-up per configuration; ` : ""}`;
md += `${L.plural(ROUNDS, "round")}, each running every backend once per variant in an order rotated per round. Reported: median req/s over the rounds; \`pronghorn / peer\` is the ratio of the medians, with the range of the per-round ratios in brackets. `;
md += `nginx, wrk and the backend share the ${os.cpus().length} cores; the machine was ${L.pct(L.median(busyAll))} busy during the runs (median; other work included), \`load\` is the 1-minute load average at the start → end of a group.\n`;

console.log(md);
if (opts.out) fs.writeFileSync(opts.out, md);
if (opts.write) {
  L.writeResults(
    RESULTS,
    md,
    `# HTTP benchmark: behind nginx

\`\`\`sh
node bench/http/nginx.mjs [--runtimes node20,node24,node26,bun,deno] [--rounds 5] [--duration 3] \\
     [--connections 50] [--warmup 1] [--variants close,keepalive] [--write] [--out FILE]
\`\`\`

Gazelle's setting: nginx in front (TCP loopback), the app server behind it on a unix socket.
pronghorn (default, and \`--keepalive-timeout 0\`, Gazelle mode) against the raw server of the same
runtime, with nginx's default upstream (a new connection per request) and with a keep-alive
upstream. See the comment at the top of bench/http/nginx.mjs. \`--write\` replaces what lies
between the markers below.`,
  );
  console.error(`${SCRIPT}: wrote ${path.relative(L.ROOT, RESULTS)}`);
}
