// The HTTP benchmark as a picture: bench/http/results.json (written by `run.mjs --write`, next to
// results.md) as an SVG bar chart, bench/http/results.svg. Hand-written SVG, no dependency.
//
//   node bench/http/chart.mjs [--in bench/http/results.json] [--out bench/http/results.svg]
//
// One row per server, grouped by runtime; one panel per mode (keep-alive, Connection: close),
// each with its own scale. Bars are median req/s; next to each peer, `×R` is pronghorn's median
// over that peer's (above 1: pronghorn is faster). The caption says how the numbers were made.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const RESULTS_JSON = path.join(HERE, "results.json");
export const RESULTS_SVG = path.join(HERE, "results.svg");

const MODE_TITLE = { "keep-alive": "keep-alive", close: "Connection: close" };
const FONT = "font-family=\"-apple-system, 'Segoe UI', Helvetica, Arial, sans-serif\"";
const COLOR = { pronghorn: "#c8553d", peer: "#8a9bb0", faster: "#1b7a3a", slower: "#b0302a", text: "#222", muted: "#666", grid: "#e3e3e3" };

const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const thousands = (x) => Math.round(x).toLocaleString("en-US");
const kilo = (x) => (x >= 10000 ? `${Math.round(x / 1000)}k` : `${(x / 1000).toFixed(1)}k`);

/** A "nice" axis maximum and tick step at or above `max`. */
function niceScale(max) {
  const raw = max / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  return { step, top: Math.ceil(max / step) * step };
}

/** Wrap `text` into lines of at most `width` characters. */
function wrap(text, width) {
  const lines = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** The SVG text of the chart for results.json's data. */
export function renderChart(data) {
  const modes = data.modes;
  const groups = data.groups.filter((g) => g.servers.some((s) => s.rps));
  const W = 1000;
  const labelW = 200;
  const gap = 30;
  const panelW = (W - labelW - 20 - gap * (modes.length - 1)) / modes.length;
  const ratioRoom = 112; // right of the longest bar: value and ratio
  const barMax = panelW - ratioRoom;
  const rowH = 19;
  const barH = 13;
  const headH = 22;
  const top = 92;

  const scales = Object.fromEntries(modes.map((m) => [m, niceScale(Math.max(...groups.flatMap((g) => g.servers.map((s) => s.rps?.[m] ?? 0))))]));
  const x0 = (i) => labelW + i * (panelW + gap);
  const out = [];
  let y = top;
  const rows = [];
  for (const g of groups) {
    rows.push({ kind: "group", g, y });
    y += headH;
    for (const s of g.servers) {
      rows.push({ kind: "server", g, s, y });
      y += rowH;
    }
    y += 6;
  }
  const plotBottom = y;

  const caption = [
    `Made with \`${data.command}\` on ${data.date.slice(0, 10)} (pronghorn commit ${data.commit}).`,
    `Each server alone on loopback serving the same hello-world fetch app; pronghorn with one worker (\`--workers 1 -E production\`); peers with their defaults.`,
    `Load: \`wrk -t1 -c${data.connections} -d${data.duration}s\`, keep-alive and with \`Connection: close\`, ${data.rounds} rounds in rotated order; bars are median req/s over the rounds.`,
    `×R = pronghorn's median / that peer's median on the same runtime (above 1: pronghorn faster). Machine: ${data.machine}, shared with other work, so absolute numbers vary by 2× between runs: compare ratios within a runtime, never across runtimes. Full table: bench/http/results.md.`,
  ].flatMap((p) => wrap(p, 150));
  const H = plotBottom + 24 + caption.length * 15 + 12;

  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ${FONT} font-size="12" role="img" aria-labelledby="title desc">`);
  out.push(`<title id="title">pronghorn against the servers of its own runtime: requests per second</title>`);
  out.push(`<desc id="desc">${esc(groups.map((g) => `${g.runtime}: ${g.servers.map((s) => `${s.name} ${modes.map((m) => `${MODE_TITLE[m]} ${thousands(s.rps[m])} req/s`).join(", ")}`).join("; ")}`).join(". "))}</desc>`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="20" y="30" font-size="17" font-weight="600" fill="${COLOR.text}">pronghorn against the servers of its own runtime: requests per second (higher is better)</text>`);
  // legend
  out.push(`<rect x="20" y="44" width="12" height="12" fill="${COLOR.pronghorn}"/><text x="38" y="54" fill="${COLOR.text}">pronghorn (1 worker)</text>`);
  out.push(`<rect x="190" y="44" width="12" height="12" fill="${COLOR.peer}"/><text x="208" y="54" fill="${COLOR.text}">the runtime's own server, or a framework on it</text>`);
  out.push(`<text x="500" y="54" fill="${COLOR.text}"><tspan font-weight="600" fill="${COLOR.faster}">×1.32</tspan> / <tspan font-weight="600" fill="${COLOR.slower}">×0.78</tspan>: pronghorn's req/s over that server's</text>`);

  modes.forEach((m, i) => {
    const { step, top: max } = scales[m];
    const px = (v) => (v / max) * barMax;
    out.push(`<text x="${x0(i)}" y="${top - 14}" font-size="14" font-weight="600" fill="${COLOR.text}">${esc(MODE_TITLE[m])}</text>`);
    for (let v = 0; v <= max + 1e-9; v += step) {
      const x = x0(i) + px(v);
      out.push(`<line x1="${x.toFixed(1)}" y1="${top - 6}" x2="${x.toFixed(1)}" y2="${plotBottom}" stroke="${COLOR.grid}"/>`);
      out.push(`<text x="${x.toFixed(1)}" y="${plotBottom + 14}" text-anchor="middle" font-size="10" fill="${COLOR.muted}">${v === 0 ? "0" : kilo(v)}</text>`);
    }
  });
  out.push(`<text x="${W - 20}" y="${plotBottom + 14}" text-anchor="end" font-size="10" fill="${COLOR.muted}">req/s</text>`);

  for (const r of rows) {
    if (r.kind === "group") {
      out.push(`<text x="20" y="${r.y + 15}" font-size="13" font-weight="600" fill="${COLOR.text}">${esc(r.g.runtime)}</text>`);
      continue;
    }
    const { s, g } = r;
    const p = g.servers.find((x) => x.name === "pronghorn");
    const isP = s.name === "pronghorn";
    const cy = r.y + (rowH - barH) / 2;
    out.push(`<text x="34" y="${cy + barH - 2}" fill="${isP ? COLOR.pronghorn : COLOR.text}"${isP ? ' font-weight="600"' : ""}>${esc(s.name)}</text>`);
    modes.forEach((m, i) => {
      const v = s.rps?.[m];
      if (!Number.isFinite(v)) return;
      const w = (v / scales[m].top) * barMax;
      const x = x0(i);
      out.push(`<rect x="${x}" y="${cy}" width="${w.toFixed(1)}" height="${barH}" fill="${isP ? COLOR.pronghorn : COLOR.peer}"><title>${esc(`${g.runtime}, ${s.name}, ${MODE_TITLE[m]}: ${thousands(v)} req/s`)}</title></rect>`);
      let label = `<tspan fill="${COLOR.muted}">${thousands(v)}</tspan>`;
      if (!isP && Number.isFinite(p?.rps?.[m])) {
        const ratio = p.rps[m] / v;
        label += ` <tspan font-weight="600" fill="${ratio >= 1.005 ? COLOR.faster : ratio < 0.995 ? COLOR.slower : COLOR.muted}">×${ratio.toFixed(2)}</tspan>`;
      }
      out.push(`<text x="${(x + w + 5).toFixed(1)}" y="${cy + barH - 2}" font-size="11">${label}</text>`);
    });
  }

  let cyCap = plotBottom + 36;
  for (const line of caption) {
    // `code` spans in a monospace font
    const parts = line.split("`").map((t, k) => (k % 2 ? `<tspan font-family="ui-monospace, Menlo, Consolas, monospace">${esc(t)}</tspan>` : esc(t)));
    out.push(`<text x="20" y="${cyCap}" font-size="11" fill="${COLOR.muted}">${parts.join("")}</text>`);
    cyCap += 15;
  }
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/** Read results.json, write the SVG; returns the SVG's path. */
export function writeChart(input = RESULTS_JSON, output = RESULTS_SVG) {
  const data = JSON.parse(fs.readFileSync(input, "utf8"));
  fs.writeFileSync(output, renderChart(data));
  return output;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name, fallback) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && args[i + 1] ? path.resolve(args[i + 1]) : fallback;
  };
  const written = writeChart(opt("in", RESULTS_JSON), opt("out", RESULTS_SVG));
  console.error(`chart.mjs: wrote ${path.relative(process.cwd(), written)}`);
}
