// CaSSIS monitoring page: fetches the JSON API of cassis_pipe.ops.webapp and draws SVG plots.
// Self-contained (no libraries, no network beyond this server); values are inserted as text.
"use strict";

const SVGNS = "http://www.w3.org/2000/svg";
const PAD = { l: 64, r: 16, t: 14, b: 36 };
let channels = [];
let hkRequest = 0; // only the latest HK request is drawn

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function sv(parent, tag, attrs, text) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  parent.appendChild(e);
  return e;
}
async function api(path) {
  const r = await fetch(path, { credentials: "same-origin" });
  if (r.status === 401) { window.location = "/login"; throw new Error("login required"); }
  const data = await r.json();
  if (!r.ok) throw new Error(data.error || r.statusText);
  return data;
}
function isoUtc(unix, ms) {
  const s = new Date(unix * 1000).toISOString();
  return ms ? s.slice(0, 23) : s.slice(0, 19);
}
function niceTicks(lo, hi, n) {
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map(m => m * mag).find(s => s >= raw);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * span; v += step) out.push(v);
  return out;
}
function timeTicks(lo, hi, n) {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 43200,
                 86400, 172800, 604800, 2592000];
  const step = steps.find(s => (hi - lo) / s <= n) || 2592000;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) out.push(v);
  return { ticks: out, step: step };
}
function timeLabel(t, step) {
  const s = isoUtc(t);
  return step >= 86400 ? s.slice(0, 10) : step >= 60 ? s.slice(5, 16).replace("T", " ")
    : s.slice(11, 19);
}

// Axes + scales for an SVG; returns {x, y, w, h}.
function frame(svg, x0, x1, y0, y1, yLabel) {
  svg.replaceChildren();
  const W = +svg.getAttribute("width"), H = +svg.getAttribute("height");
  const w = W - PAD.l - PAD.r, h = H - PAD.t - PAD.b;
  if (x1 <= x0) { x0 -= 0.5; x1 += 0.5; }
  if (y1 <= y0) { y0 -= 1; y1 += 1; }
  const padY = (y1 - y0) * 0.08;
  y0 -= padY; y1 += padY;
  const x = t => PAD.l + (t - x0) / (x1 - x0) * w;
  const y = v => PAD.t + h - (v - y0) / (y1 - y0) * h;
  for (const v of niceTicks(y0, y1, 6)) {
    sv(svg, "line", { class: "grid", x1: PAD.l, x2: PAD.l + w, y1: y(v), y2: y(v) });
    sv(svg, "text", { x: PAD.l - 6, y: y(v) + 4, "text-anchor": "end" }, String(+v.toPrecision(8)));
  }
  const tt = timeTicks(x0, x1, 8);
  for (const t of tt.ticks) {
    sv(svg, "line", { class: "grid", x1: x(t), x2: x(t), y1: PAD.t, y2: PAD.t + h });
    sv(svg, "text", { x: x(t), y: PAD.t + h + 16, "text-anchor": "middle" }, timeLabel(t, tt.step));
  }
  sv(svg, "text", { x: PAD.l + w, y: H - 4, "text-anchor": "end" }, "UTC");
  sv(svg, "text", { x: 12, y: PAD.t + h / 2, transform: `rotate(-90 12 ${PAD.t + h / 2})`,
                    "text-anchor": "middle" }, yLabel);
  sv(svg, "line", { class: "axis", x1: PAD.l, x2: PAD.l, y1: PAD.t, y2: PAD.t + h });
  sv(svg, "line", { class: "axis", x1: PAD.l, x2: PAD.l + w, y1: PAD.t + h, y2: PAD.t + h });
  return { x, y, w, h, x0, x1 };
}

function levelOf(v, lim) {
  if (!lim) return null;
  if ((lim.hard_low !== null && v < lim.hard_low) || (lim.hard_high !== null && v > lim.hard_high))
    return "hard";
  if ((lim.soft_low !== null && v < lim.soft_low) || (lim.soft_high !== null && v > lim.soft_high))
    return "soft";
  return null;
}

function drawHk(d) {
  const svg = document.getElementById("hk-plot");
  const lim = d.limits;
  const vals = d.v.concat(d.vmin || [], d.vmax || []).filter(v => v !== null);
  const limVals = lim ? Object.values(lim).filter(v => v !== null) : [];
  const all = vals.concat(limVals.filter(v => vals.length === 0 ||
    Math.abs(v - vals[0]) < 10 * (Math.max(...vals) - Math.min(...vals) + 50)));
  const xs = d.mode === "raw" ? [d.from_unix, d.to_unix] : d.t;
  const f = frame(svg, Math.min(...xs), Math.max(...xs), Math.min(...all), Math.max(...all),
                  `${d.channel} [${d.unit}]`);
  svg.dataset.channel = d.channel;
  svg.dataset.points = String(d.t.length);
  svg.dataset.mode = d.mode;
  const clipX = t => Math.max(PAD.l, Math.min(PAD.l + f.w, f.x(t)));
  for (const e of d.episodes) {
    const xa = clipX(e.start - 0.5), xb = clipX(e.end + 0.5);
    sv(svg, "rect", { class: "episode", x: xa, y: PAD.t, width: Math.max(xb - xa, 3),
                      height: f.h, "data-level": e.level });
  }
  if (lim) {
    for (const [k, cls] of [["soft_low", "limit-soft"], ["soft_high", "limit-soft"],
                            ["hard_low", "limit-hard"], ["hard_high", "limit-hard"]]) {
      if (lim[k] === null) continue;
      const yy = f.y(lim[k]);
      if (yy < PAD.t || yy > PAD.t + f.h) continue;
      sv(svg, "line", { class: cls, x1: PAD.l, x2: PAD.l + f.w, y1: yy, y2: yy, "data-limit": k });
    }
  }
  if (d.mode === "daily") {
    d.t.forEach((t, i) => sv(svg, "rect", { class: "band", x: f.x(t) - 2, width: 4,
      y: f.y(d.vmax[i]), height: Math.max(f.y(d.vmin[i]) - f.y(d.vmax[i]), 1) }));
  }
  const pts = d.t.map((t, i) => `${f.x(t).toFixed(1)},${f.y(d.v[i]).toFixed(1)}`);
  sv(svg, "polyline", { class: "hk-line", points: pts.join(" ") });
  const g = sv(svg, "g", { class: "points" });
  d.t.forEach((t, i) => {
    const lv = d.mode === "daily" ? (levelOf(d.vmin[i], lim) || levelOf(d.vmax[i], lim))
      : levelOf(d.v[i], lim);
    if (lv) {
      sv(g, "circle", { class: "oolpt", cx: f.x(t), cy: f.y(d.v[i]), r: 4, "data-level": lv,
                        "data-t": t, "data-v": d.v[i] });
    } else if (d.t.length <= 600) {
      sv(g, "circle", { class: "pt", cx: f.x(t), cy: f.y(d.v[i]), r: 2 });
    }
  });
  interact(svg, f, d);
  const tb = document.querySelector("#episodes tbody");
  tb.replaceChildren();
  for (const e of d.episodes) {
    const tr = el("tr", { class: "episode-row" });
    for (const c of [isoUtc(e.start, true), isoUtc(e.end, true), e.samples, e.level, e.worst])
      tr.appendChild(el("td", {}, c));
    tb.appendChild(tr);
  }
  const n = d.mode === "raw" ? `${d.samples} samples, ${d.t.length} drawn`
    : `${d.t.length} days (daily min/mean/max)`;
  document.getElementById("hk-info").textContent =
    `${n}; ${d.episodes.length} out-of-limit episode(s)`;
}

// Hover read-out, drag to zoom, double-click to reset.
function interact(svg, f, d) {
  const tip = sv(svg, "text", { class: "tip", x: PAD.l + 8, y: PAD.t + 14 }, "");
  let sel = null, x0 = 0;
  const toT = px => f.x0 + (px - PAD.l) / f.w * (f.x1 - f.x0);
  const px = ev => ev.clientX - svg.getBoundingClientRect().left;
  svg.onmousemove = ev => {
    const p = px(ev);
    if (sel) {
      sel.setAttribute("x", Math.min(p, x0)); sel.setAttribute("width", Math.abs(p - x0));
      return;
    }
    if (!d.t.length) return;
    const t = toT(p);
    let best = 0;
    d.t.forEach((ti, i) => { if (Math.abs(ti - t) < Math.abs(d.t[best] - t)) best = i; });
    tip.textContent = `${isoUtc(d.t[best], true)}  ${d.v[best]} ${d.unit}`;
  };
  svg.onmousedown = ev => {
    x0 = px(ev);
    sel = sv(svg, "rect", { class: "sel", x: x0, y: PAD.t, width: 0, height: f.h });
  };
  svg.onmouseup = ev => {
    if (!sel) return;
    const x1 = px(ev);
    sel.remove(); sel = null;
    if (Math.abs(x1 - x0) < 5) return;
    document.getElementById("from").value = isoUtc(toT(Math.min(x0, x1)), true);
    document.getElementById("to").value = isoUtc(toT(Math.max(x0, x1)), true);
    plotHk();
  };
  svg.ondblclick = () => resetRange();
}

async function plotHk() {
  const ch = document.getElementById("channel").value;
  const p = new URLSearchParams({ channel: ch });
  const from = document.getElementById("from").value.trim();
  const to = document.getElementById("to").value.trim();
  if (from) p.set("from", from);
  if (to) p.set("to", to);
  const mine = ++hkRequest;
  try {
    const d = await api("/api/hk?" + p.toString());
    if (mine === hkRequest) drawHk(d);
  } catch (err) {
    if (mine === hkRequest) document.getElementById("hk-info").textContent = "error: " + err.message;
  }
}
function resetRange() {
  const c = channels.find(c => c.name === document.getElementById("channel").value);
  document.getElementById("from").value = c && c.range ? c.range.from_utc : "";
  document.getElementById("to").value = c && c.range ? c.range.to_utc : "";
  plotHk();
}

async function loadChannels() {
  channels = (await api("/api/channels")).channels;
  const s = document.getElementById("channel");
  s.replaceChildren();
  for (const c of channels) {
    const o = el("option", { value: c.name }, c.name + (c.limits ? "  (limits)" : ""));
    if (!c.has_data) o.disabled = true;
    s.appendChild(o);
  }
  const first = channels.find(c => c.has_data && c.limits) || channels.find(c => c.has_data);
  if (first) { s.value = first.name; resetRange(); }
  s.onchange = resetRange;
}

function badge(state) {
  return el("span", { class: "badge st-" + state.replace(" ", "-") }, state);
}
async function loadObservations() {
  const obs = (await api("/api/observations")).observations;
  const tb = document.querySelector("#observations tbody");
  tb.replaceChildren();
  for (const o of obs) {
    const tr = el("tr", { class: "obs-row", "data-obs": o.observation_id, "data-status": o.status });
    tr.appendChild(el("td", {}, o.observation_id));
    const st = el("td", { class: "status" }); st.appendChild(badge(o.status)); tr.appendChild(st);
    const stages = el("td", { class: "stages" });
    for (const [k, v] of Object.entries(o.stages)) {
      const b = badge(v); b.textContent = k; b.title = v; b.dataset.stage = k; stages.appendChild(b);
    }
    tr.appendChild(stages);
    const probs = Object.entries(o.validation_problems);
    tr.appendChild(el("td", { class: probs.length ? "bad" : "muted" },
      probs.length ? probs.map(([k, v]) => `${k}: ${v}`).join(", ") : "none"));
    const counts = el("td", {});
    for (const c of o.counts)
      counts.appendChild(el("div", { class: c.ok ? "" : "bad" },
        `${c.stage}: ${c.expected} / ${c.produced}`));
    tr.appendChild(counts);
    tr.appendChild(el("td", {}, o.rotation_offset_deg === null ? "-" :
      o.rotation_offset_deg.toFixed(4)));
    const mis = o.misregistration_px;
    tr.appendChild(el("td", {}, mis.max === null || mis.max === undefined ? "-" :
      `max ${mis.max.toFixed(3)} (` + Object.entries(mis.bands).map(([b, v]) =>
        `${b} ${v === null || v === undefined ? "n/a" : v.toFixed(3)}`).join(", ") + ")"));
    const ql = el("td", {});
    for (const q of o.quicklooks) {
      const src = `/quicklook/${encodeURIComponent(o.observation_id)}/${encodeURIComponent(q)}`;
      const a = el("a", { href: src }); a.appendChild(el("img", { src: src, alt: q, title: q }));
      ql.appendChild(a);
    }
    tr.appendChild(ql);
    tb.appendChild(tr);
  }
}

async function loadRotation() {
  const rows = (await api("/api/rotation")).rows;
  const svg = document.getElementById("rot-plot");
  if (!rows.length) { svg.replaceChildren(); sv(svg, "text", { x: 20, y: 30 }, "no history yet");
                      return; }
  const t = rows.map(r => r.unix), v = rows.map(r => r.offset_deg);
  const f = frame(svg, Math.min(...t) - 3600, Math.max(...t) + 3600, Math.min(...v), Math.max(...v),
                  "rotation offset [deg]");
  svg.dataset.points = String(rows.length);
  for (const r of rows) {
    const c = sv(svg, "circle", { class: "rot-pt", cx: f.x(r.unix), cy: f.y(r.offset_deg), r: 4 });
    sv(c, "title", {}, `${r.observation_id}: ${r.offset_deg} deg (${r.utc})`);
  }
}

async function loadDeliveries() {
  const d = await api("/api/deliveries");
  const box = document.getElementById("deliveries");
  box.replaceChildren();
  if (!d.present || !d.deliveries.length) {
    box.appendChild(el("p", { class: "muted" }, "No ingest state yet."));
    return;
  }
  const keys = [...new Set(d.deliveries.flatMap(r => Object.keys(r)))];
  const t = el("table", { id: "deliveries-table" }), hr = el("tr");
  keys.forEach(k => hr.appendChild(el("th", {}, k)));
  t.appendChild(hr);
  for (const r of d.deliveries) {
    const tr = el("tr");
    keys.forEach(k => tr.appendChild(el("td", {}, r[k] === undefined ? "" : r[k])));
    t.appendChild(tr);
  }
  box.appendChild(t);
}

async function loadTc() {
  const rows = (await api("/api/tc")).commands;
  const tb = document.querySelector("#telecommands tbody");
  tb.replaceChildren();
  for (const r of rows) {
    const tr = el("tr");
    for (const c of [r.utc || "-", r.name, r.uid === null ? "-" : r.uid,
                     Object.entries(r.params).map(([k, v]) => `${k}=${v}`).join(" ")])
      tr.appendChild(el("td", {}, c));
    tb.appendChild(tr);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("plot-button").onclick = plotHk;
  document.getElementById("reset-button").onclick = resetRange;
  const report = err => console.error(err);
  loadChannels().catch(report);
  loadObservations().catch(report);
  loadRotation().catch(report);
  loadDeliveries().catch(report);
  loadTc().catch(report);
});
