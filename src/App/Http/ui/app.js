// StreamVision web interface: plain JavaScript, no build step, everything served by the service itself.
// Views (by URL hash): #/ wall, #/stream/ID full view, #/stream/ID/draw zone and line editor, #/stream/ID/edit,
// #/add, #/review, #/charts. Data comes from the JSON API under /api (see the README).
"use strict";

const view = document.getElementById("view");
const summary = document.getElementById("summary");
let current = null; // the view shown: { stop() } to release its timers and connections

// ---------- helpers ----------
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) e.append(c);
  return e;
}
const SVGNS = "http://www.w3.org/2000/svg";
function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) e.setAttribute(k, v);
  for (const c of children.flat()) if (c !== undefined && c !== null) e.append(c);
  return e;
}
async function api(path, options) {
  const r = await fetch(path, Object.assign({ cache: "no-store" }, options || {}));
  // A service with a token (http.token) answers 401 until the browser signed in: ask once, then show the page again.
  if (r.status === 401 && path !== "/api/login") showLogin();
  let body = null;
  const type = r.headers.get("content-type") || "";
  if (type.includes("json")) body = await r.json();
  return { ok: r.ok, status: r.status, body };
}
const enc = encodeURIComponent;

// ---------- sign-in ----------
// POST /api/login with the token sets an HttpOnly session cookie that the API calls and the MJPEG pictures carry.
function showLogin() {
  if (document.getElementById("login")) return;
  if (current && current.stop) current.stop();
  current = null;
  const input = el("input", { id: "token", name: "token", type: "password", autocomplete: "current-password", required: true });
  const error = el("p", { class: "form-error", id: "login-error", role: "alert" });
  const form = el("form", { id: "login", class: "login" },
    el("h2", { text: "Sign in" }),
    el("label", { for: "token", text: "This service needs its API token (http.token):" }), input,
    el("button", { type: "submit", text: "Sign in" }), error);
  form.addEventListener("submit", async ev => {
    ev.preventDefault();
    const r = await fetch("/api/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ token: input.value }) });
    if (r.ok) { input.value = ""; route(); }
    else error.textContent = r.status === 429 ? "Too many attempts: wait a moment." : "Wrong token.";
  });
  view.replaceChildren(form);
  summary.textContent = "sign in to see the streams";
  input.focus();
}
function num(v, digits) { return typeof v === "number" && isFinite(v) ? v.toFixed(digits) : "–"; }
function ago(iso) {
  if (!iso) return "";
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return Math.round(s) + " s";
  if (s < 3600) return Math.round(s / 60) + " min";
  if (s < 86400) return (s / 3600).toFixed(1) + " h";
  return (s / 86400).toFixed(1) + " days";
}
function localTime(iso) { return iso ? new Date(iso).toLocaleString() : ""; }
function toast(text) {
  let t = document.querySelector(".toast");
  if (!t) { t = el("div", { class: "toast", role: "status" }); document.body.append(t); }
  t.textContent = text;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.textContent = ""; }, 3000);
}
const STATE_WORDS = { streaming: "streaming", degraded: "streaming, an output faulted", connecting: "connecting", backoff: "reconnecting", failed: "failed", ended: "ended", stopped: "stopped", idle: "idle", starting: "starting",
  unassigned: "waiting for an instance", unreachable: "owner not answering" };
// Pictures arrive: streaming, or streaming with a faulted output (the service's "degraded").
function flowing(s) { return s.state === "streaming" || s.state === "degraded"; }
function stateText(s) { return STATE_WORDS[s.state] || s.state || s.status; }
// Zones and lines as fractions 0..1 of the frame (pixel units divided by the stream's size).
function toFraction(points, units, w, h) {
  if (units === "fraction") return points.map(p => [p[0], p[1]]);
  return points.map(p => [w ? p[0] / w : 0, h ? p[1] / h : 0]);
}
const PALETTE = ["#00c8ff", "#ff8c00", "#7cfc00", "#ff1493", "#ffd700", "#1e90ff", "#adff2f", "#ff4500"];

// Zones and lines drawn over a picture: an SVG in a 1000x1000 box stretched over the image (normalised coordinates).
function regionsOverlay(regions, w, h) {
  const s = svg("svg", { viewBox: "0 0 1000 1000", preserveAspectRatio: "none", "aria-hidden": "true", focusable: "false" });
  drawRegions(s, regions, w, h);
  return s;
}
function drawRegions(s, regions, w, h) {
  s.replaceChildren();
  if (!regions) return;
  let i = 0;
  for (const z of regions.zones || []) {
    const color = z.color || PALETTE[i++ % PALETTE.length];
    const pts = toFraction(z.polygon, z.units, w, h).map(p => (p[0] * 1000) + "," + (p[1] * 1000)).join(" ");
    s.append(svg("polygon", { points: pts, fill: color, "fill-opacity": "0.18", stroke: color, "stroke-width": "4", "vector-effect": "non-scaling-stroke", "data-zone": z.name }));
  }
  for (const l of regions.lines || []) {
    const color = l.color || PALETTE[i++ % PALETTE.length];
    const [a, b] = toFraction(l.points, l.units, w, h);
    s.append(lineShape(a, b, color, l.name));
  }
}
function lineShape(a, b, color, name) {
  const g = svg("g", { "data-line": name });
  const ax = a[0] * 1000, ay = a[1] * 1000, bx = b[0] * 1000, by = b[1] * 1000;
  g.append(svg("line", { x1: ax, y1: ay, x2: bx, y2: by, stroke: color, "stroke-width": "4", "vector-effect": "non-scaling-stroke" }));
  // Arrow to the "in" side: the right-hand side looking from the first point to the second.
  const dx = bx - ax, dy = by - ay, len = Math.hypot(dx, dy);
  if (len > 1) {
    const nx = -dy / len, ny = dx / len, mx = (ax + bx) / 2, my = (ay + by) / 2;
    g.append(svg("line", { x1: mx, y1: my, x2: mx + nx * 60, y2: my + ny * 60, stroke: color, "stroke-width": "3", "vector-effect": "non-scaling-stroke" }));
  }
  return g;
}

// ---------- router ----------
const routes = [
  [/^#?\/?$/, "wall", () => wallView()],
  [/^#\/stream\/([^/]+)$/, "wall", m => streamView(decodeURIComponent(m[1]))],
  [/^#\/stream\/([^/]+)\/draw$/, "wall", m => drawView(decodeURIComponent(m[1]))],
  [/^#\/stream\/([^/]+)\/edit$/, "add", m => formView(decodeURIComponent(m[1]))],
  [/^#\/add$/, "add", () => formView(null)],
  [/^#\/review(\?.*)?$/, "review", m => reviewView(new URLSearchParams((m[1] || "").slice(1)))],
  [/^#\/charts(\?.*)?$/, "charts", m => chartsView(new URLSearchParams((m[1] || "").slice(1)))],
];
function route() {
  if (current && current.stop) current.stop();
  current = null;
  view.replaceChildren();
  const hash = location.hash || "#/";
  for (const [re, nav, make] of routes) {
    const m = hash.match(re);
    if (!m) continue;
    for (const a of document.querySelectorAll("nav a[data-nav]")) {
      if (a.dataset.nav === nav) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
    }
    current = make(m) || null;
    return;
  }
  view.append(el("p", { class: "empty", text: "No such page. " }, el("a", { href: "#/", text: "Back to the wall" })));
}
window.addEventListener("hashchange", () => { route(); view.focus({ preventScroll: true }); });

// The header's summary, from every stream (never "NaN": failed streams have no fps).
function summarise(list) {
  const running = list.filter(flowing).length;
  const failed = list.filter(s => s.state === "failed").length;
  const fps = list.reduce((a, s) => a + (typeof s.fps === "number" && isFinite(s.fps) ? s.fps : 0), 0);
  summary.textContent = list.length + " stream" + (list.length === 1 ? "" : "s") + " · " + running + " streaming" +
    (failed ? " · " + failed + " failed" : "") + " · " + fps.toFixed(1) + " fps";
}
async function streams() {
  const r = await api("/api/ui/streams");
  if (!r.ok) throw new Error("HTTP " + r.status);
  summarise(r.body);
  return r.body;
}

// ---------- wall ----------
function wallView() {
  const grid = el("div", { class: "wall", "aria-label": "Streams" });
  view.append(el("h2", { class: "visually-hidden", text: "Live wall" }), grid);
  const cards = new Map();
  let timer = 0, stopped = false;
  function card(s) {
    const c = el("article", { class: "card", "data-stream": s.id });
    const frame = el("div", { class: "frame" });
    const link = el("a", { href: "#/stream/" + enc(s.id), title: "Open " + s.id + " full size" }, frame);
    const head = el("div", { class: "head" }, el("b", { text: s.id }), el("span", { class: "owner" }), el("span", { class: "badge" }));
    const dl = el("dl", { class: "stats" });
    for (const [k, label] of [["fps", "fps"], ["latency_ms", "latency ms"], ["active_tracks", "objects"], ["events", "events"], ["drops", "drops"], ["frames", "frames"]]) {
      dl.append(el("div", { "data-key": k }, el("dt", { text: label }), el("dd")));
    }
    c.append(link, head, el("div", { class: "reason" }), el("div", { class: "sinks", "aria-label": "Outputs not connected" }), el("div", { class: "since" }), el("div", { class: "elsewhere" }), dl);
    grid.append(c);
    return c;
  }
  function update(list) {
    const seen = new Set();
    // Many MJPEG connections would use up the browser's six per host: beyond four streams the wall refreshes stills.
    const live = list.length <= 4;
    for (const s of list) {
      seen.add(s.id);
      let c = cards.get(s.id);
      if (!c) { c = card(s); cards.set(s.id, c); }
      const state = stateText(s);
      const badge = c.querySelector(".badge");
      badge.textContent = state; badge.className = "badge " + (s.state || s.status);
      // The camera-tamper stage's verdict (when it runs): covered, defocused, moved or frozen is shown as the reason.
      const tampered = s.camera && s.camera !== "normal";
      c.classList.toggle("tampered", !!tampered);
      c.querySelector(".reason").textContent = s.error || (tampered ? "camera " + s.camera : "");
      c.querySelector(".since").textContent = s.since ? state + " for " + ago(s.since) + " (since " + localTime(s.since) + ")" : "";
      // In a cluster: the instance that runs the stream, and for another instance's stream a link to its own page.
      c.querySelector(".owner").textContent = s.owner ? "on " + s.owner : "";
      elsewhere(c.querySelector(".elsewhere"), s);
      sinkLines(c.querySelector(".sinks"), s);
      for (const d of c.querySelectorAll("dl > div")) {
        const v = s[d.dataset.key];
        // fps and latency mean something only while pictures arrive.
        d.querySelector("dd").textContent = !flowing(s) && (d.dataset.key === "fps" || d.dataset.key === "latency_ms") ? "–"
          : typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : "–";
      }
      preview(c.querySelector(".frame"), s, live);
    }
    for (const [id, c] of cards) if (!seen.has(id)) { stopImage(c.querySelector("img")); c.remove(); cards.delete(id); }
    let empty = view.querySelector(".empty");
    if (list.length === 0 && !empty) view.append(el("p", { class: "empty" }, "No streams yet. ", el("a", { href: "#/add", text: "Add a camera or file" }), "."));
    if (list.length > 0 && empty) empty.remove();
  }
  async function poll() {
    if (stopped) return;
    try {
      const list = await streams();
      if (stopped) return; // e.g. the sign-in form replaced the wall while the request was out
      update(list);
    } catch (e) { if (stopped) return; summary.textContent = "service unreachable"; }
    timer = setTimeout(poll, 1000);
  }
  poll();
  return { stop() { stopped = true; clearTimeout(timer); for (const c of cards.values()) stopImage(c.querySelector("img")); } };
}
function stopImage(img) { if (img) { img.onerror = null; img.removeAttribute("src"); } }

// A sink's state in words: "webhook buffering for 12 s: <why>" (the card shows the sinks that are not connected).
function sinkLine(k) {
  return k.name + " " + k.state + (k.since ? " for " + ago(k.since) : "") + (k.reason ? ": " + k.reason : "") +
    (typeof k.events_buffered === "number" && k.events_buffered > 0 ? " (" + k.events_buffered + " events held)" : "");
}
function sinkLines(box, s) {
  const bad = (s.sinks || []).filter(k => k.state && k.state !== "connected");
  box.replaceChildren(...bad.map(k => el("div", { class: "sink-line " + k.state, "data-sink": k.name, text: sinkLine(k) })));
}

// A picture while the stream shows one; otherwise a placeholder that says why (no broken image).
function preview(frame, s, live, overlay) {
  const showing = s.preview && (flowing(s) || s.state === "ended" || s.state === "stopped");
  let img = frame.querySelector("img"), ph = frame.querySelector(".placeholder");
  if (!showing || frame.dataset.failed === "1") {
    if (img) { stopImage(img); img.remove(); }
    if (!ph) { ph = el("div", { class: "placeholder" }, el("strong"), el("span")); frame.append(ph); }
    ph.querySelector("strong").textContent = stateText(s);
    // What is wrong (s.error) is said once, on the reason line next to the picture, not again here.
    ph.querySelector("span").textContent = s.remote ? (s.owner ? "runs on instance " + s.owner + ": no preview on this instance" : "no instance runs it yet")
      : s.error ? "" : s.preview ? "waiting for pictures…" : "no preview for this stream (sinks.preview is off)";
    if (frame.dataset.failed === "1" && showing && !frame.dataset.retry) {
      frame.dataset.retry = "1";
      setTimeout(() => { delete frame.dataset.failed; delete frame.dataset.retry; }, 3000);
    }
    return;
  }
  if (ph) ph.remove();
  const base = "/api/streams/" + enc(s.id);
  if (!img) {
    img = el("img", { alt: "Live picture of " + s.id });
    img.onerror = () => { frame.dataset.failed = "1"; };
    frame.append(img);
  }
  if (live && flowing(s)) {
    if (!img.dataset.mjpeg) { img.dataset.mjpeg = "1"; img.src = base + "/preview.mjpeg"; }
  } else {
    delete img.dataset.mjpeg;
    img.src = base + "/snapshot.jpg?t=" + Date.now();
  }
  // The frame takes the stream's shape, so the picture fills it and the overlay's 0..1 coordinates match the picture's.
  if (s.width > 0 && s.height > 0) frame.style.aspectRatio = s.width + " / " + s.height;
  frame.querySelector("svg")?.remove();
  if (overlay && s.regions) frame.append(regionsOverlay(s.regions, s.width, s.height));
}

// A stream another instance of the cluster runs: where to see its picture, draw its zones and review its events.
function elsewhere(box, s) {
  if (!s.remote || !s.owner_api) { box.replaceChildren(); return; }
  const href = s.owner_api + "/#/stream/" + enc(s.id);
  const a = box.querySelector("a");
  if (a && a.getAttribute("href") === href) return;
  box.replaceChildren(el("a", { href, text: "Open on " + s.owner }));
}

// ---------- one stream, full size ----------
function streamView(id) {
  const frame = el("div", { class: "frame" });
  const stats = el("dl", { class: "stats" });
  const state = el("p");
  const where = el("p", { class: "elsewhere" });
  const outputs = el("ul", { class: "outputs", "aria-label": "Outputs" });
  const panel = el("section", { class: "panel", "aria-label": "Details" },
    el("h3", { text: "State" }), state, where,
    el("div", { class: "actions" },
      el("a", { class: "button local-only", href: "#/stream/" + enc(id) + "/draw", text: "Draw zones and lines" }),
      el("a", { class: "button local-only", href: "#/stream/" + enc(id) + "/edit", text: "Edit stream" }),
      el("a", { class: "button", href: "#/review?stream=" + enc(id), text: "Events" }),
      el("a", { class: "button", href: "#/charts?stream=" + enc(id), text: "Charts" })),
    el("h3", { text: "Figures" }), stats,
    el("h3", { text: "Outputs" }), outputs);
  view.append(el("h2", { text: id }), el("div", { class: "detail" }, el("div", {}, frame), panel));
  let timer = 0, stopped = false;
  async function poll() {
    if (stopped) return;
    try {
      const s = (await streams()).find(x => x.id === id);
      if (!s) { view.replaceChildren(el("p", { class: "empty" }, "No stream '" + id + "'. ", el("a", { href: "#/", text: "Back to the wall" }))); return; }
      state.replaceChildren(el("span", { class: "badge " + s.state, text: stateText(s) }), " for " + ago(s.since) + " (since " + localTime(s.since) + ")",
        s.error ? el("span", { class: "reason", text: " " + s.error }) : "");
      stats.replaceChildren();
      for (const [k, label] of [["fps", "fps"], ["latency_ms", "latency ms"], ["active_tracks", "objects"], ["tracks", "tracks"], ["events", "events"], ["drops", "drops"], ["frames", "frames"], ["reconnects", "reconnects"], ["queue_depth", "queue"]]) {
        const v = s[k];
        stats.append(el("div", {}, el("dt", { text: label }), el("dd", { text: typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : "–" })));
      }
      stats.append(el("div", {}, el("dt", { text: "source" }), el("dd", { text: s.uri || "" })));
      for (const a of panel.querySelectorAll(".local-only")) a.hidden = !!s.remote;
      if (s.owner) stats.append(el("div", {}, el("dt", { text: "instance" }), el("dd", { text: s.owner })));
      if (s.remote && !where.firstChild) where.append(s.owner ? "Another instance of the cluster runs this stream: its picture, zones and events are there. " : "No instance runs this stream yet. ");
      elsewhere(where.querySelector(".link") || where.appendChild(el("span", { class: "link" })), s);
      // Every sink: its state (connected, buffering, faulted), since when and why, and what it wrote, dropped and holds.
      const sinks = s.sinks || [];
      outputs.replaceChildren(...(sinks.length ? sinks.map(k => el("li", { "data-sink": k.name },
        el("b", { text: k.name }), " ", el("span", { class: "badge " + k.state, text: k.state }),
        k.since ? " for " + ago(k.since) : "",
        k.reason ? el("span", { class: "sink-reason", text: " " + k.reason }) : "",
        el("span", { class: "muted", text: " · written " + k.written + ", dropped " + k.dropped + ", errors " + k.errors +
          (typeof k.events_delivered === "number" ? ", events delivered " + k.events_delivered + ", dropped " + k.events_dropped + ", held " + k.events_buffered : "") })))
        : [el("li", { class: "muted", text: s.remote ? "on its instance" : "none" })]));
      preview(frame, s, true, true);
    } catch (e) { summary.textContent = "service unreachable"; }
    timer = setTimeout(poll, 1000);
  }
  poll();
  return { stop() { stopped = true; clearTimeout(timer); stopImage(frame.querySelector("img")); } };
}

// ---------- zones and lines editor ----------
function drawView(id) {
  let regions = { zones: [], lines: [] }, w = 0, h = 0, tool = "line", pending = [];
  const img = el("img", { alt: "Still frame of " + id + " to draw on" });
  const overlay = svg("svg", { viewBox: "0 0 1000 1000", preserveAspectRatio: "none", role: "img", "aria-label": "Drawing area: click to place points" });
  const editor = el("div", { class: "editor" }, img, overlay);
  const list = el("ul", { class: "regions", "aria-label": "Zones and lines" });
  const formError = el("p", { class: "form-error", role: "alert" });
  const lineBtn = el("button", { type: "button", "aria-pressed": "true", text: "Line (2 clicks)", onclick: () => setTool("line") });
  const zoneBtn = el("button", { type: "button", "aria-pressed": "false", text: "Zone (click corners, then Finish)", onclick: () => setTool("zone") });
  const finishBtn = el("button", { type: "button", text: "Finish zone", onclick: () => finishZone() });
  const help = el("p", { class: "muted", text: "Click on the picture to place points. A line counts crossings; the arrow points to its \"in\" side. Points can also be typed below as x,y fractions (0..1) of the frame. Esc cancels the shape being drawn." });
  view.append(el("h2", { text: "Zones and lines of " + id }),
    el("div", { class: "detail" },
      el("div", {}, editor, el("div", { class: "actions" }, lineBtn, zoneBtn, finishBtn,
        el("button", { type: "button", text: "New frame", onclick: () => loadFrame() }))),
      el("section", { class: "panel", "aria-label": "Regions" }, help, list, formError,
        el("div", { class: "actions" },
          el("button", { type: "button", class: "primary", text: "Save", onclick: () => save() }),
          el("a", { class: "button", href: "#/stream/" + enc(id), text: "Back" })))));
  function setTool(t) { tool = t; pending = []; lineBtn.setAttribute("aria-pressed", String(t === "line")); zoneBtn.setAttribute("aria-pressed", String(t === "zone")); redraw(); }
  function loadFrame() { img.src = "/api/streams/" + enc(id) + "/snapshot.jpg?t=" + Date.now(); }
  img.onerror = () => { formError.textContent = "No picture from this stream yet; the points can still be typed in as fractions."; editor.style.aspectRatio = "16 / 9"; };
  function uniqueName(prefix) { let i = 1; const names = new Set([...regions.zones, ...regions.lines].map(r => r.name)); while (names.has(prefix + i)) i++; return prefix + i; }
  function point(ev) {
    const r = overlay.getBoundingClientRect();
    const x = Math.min(1, Math.max(0, (ev.clientX - r.left) / r.width)), y = Math.min(1, Math.max(0, (ev.clientY - r.top) / r.height));
    return [Math.round(x * 10000) / 10000, Math.round(y * 10000) / 10000];
  }
  overlay.addEventListener("click", ev => {
    pending.push(point(ev));
    if (tool === "line" && pending.length === 2) {
      regions.lines.push({ name: uniqueName("line"), points: pending, units: "fraction" });
      pending = [];
      renderList();
    }
    redraw();
  });
  function finishZone() {
    if (tool !== "zone" || pending.length < 3) { formError.textContent = "A zone needs at least 3 corners: choose Zone and click them on the picture."; return; }
    regions.zones.push({ name: uniqueName("zone"), polygon: pending, units: "fraction" });
    pending = [];
    renderList(); redraw();
  }
  document.addEventListener("keydown", onKey);
  function onKey(ev) {
    if (ev.key === "Escape") { pending = []; redraw(); }
    if (ev.key === "Enter" && tool === "zone" && pending.length >= 3 && ev.target === document.body) finishZone();
  }
  function redraw() {
    drawRegions(overlay, regions, w, h);
    if (pending.length) {
      const pts = pending.map(p => (p[0] * 1000) + "," + (p[1] * 1000)).join(" ");
      overlay.append(svg("polyline", { points: pts, fill: "none", stroke: "#ffd166", "stroke-width": "3", "stroke-dasharray": "8 6", "vector-effect": "non-scaling-stroke" }));
      for (const p of pending) overlay.append(svg("circle", { cx: p[0] * 1000, cy: p[1] * 1000, r: "8", fill: "#ffd166" }));
    }
  }
  function fmt(points, units) { return toFraction(points, units, w, h).map(p => p[0].toFixed(4) + "," + p[1].toFixed(4)).join(" "); }
  function parse(text) { return text.trim().split(/\s+/).filter(Boolean).map(t => t.split(",").map(Number)); }
  function renderList() {
    list.replaceChildren();
    const item = (kind, r, index) => {
      const key = (kind === "zone" ? "zones" : "lines") + "[" + index + "]";
      const nameId = "r-" + key.replace(/\W/g, "-") + "-name", ptsId = "r-" + key.replace(/\W/g, "-") + "-points";
      const name = el("input", { type: "text", id: nameId, value: r.name, "data-path": key + ".name" });
      name.addEventListener("input", () => { r.name = name.value; });
      const pts = el("input", { type: "text", id: ptsId, value: fmt(kind === "zone" ? r.polygon : r.points, r.units), "data-path": key + (kind === "zone" ? ".polygon" : ".points"), inputmode: "decimal" });
      pts.addEventListener("change", () => {
        const p = parse(pts.value);
        if (kind === "zone") r.polygon = p; else r.points = p;
        r.units = "fraction"; redraw();
      });
      return el("li", { "data-kind": kind },
        el("div", { class: "row" }, el("label", { for: nameId, text: kind === "zone" ? "Zone name" : "Line name" }), name,
          el("button", { type: "button", class: "danger", text: "Remove", "aria-label": "Remove " + kind + " " + r.name,
            onclick: () => { (kind === "zone" ? regions.zones : regions.lines).splice(index, 1); renderList(); redraw(); } })),
        el("div", { class: "error", "data-error": key + ".name" }),
        el("div", { class: "row" }, el("label", { for: ptsId, text: kind === "zone" ? "Corners x,y" : "From x,y to x,y" }), pts),
        el("div", { class: "error", "data-error": key + (kind === "zone" ? ".polygon" : ".points") }));
    };
    regions.zones.forEach((z, i) => list.append(item("zone", z, i)));
    regions.lines.forEach((l, i) => list.append(item("line", l, i)));
    if (!regions.zones.length && !regions.lines.length) list.append(el("li", { class: "muted", text: "None yet: draw one on the picture." }));
  }
  async function save() {
    formError.textContent = "";
    for (const e of list.querySelectorAll(".error")) e.textContent = "";
    for (const i of list.querySelectorAll("input")) i.removeAttribute("aria-invalid");
    // Everything drawn here is saved as fractions of the frame; pixel regions from the configuration are converted.
    const body = {
      zones: regions.zones.map(z => Object.assign({}, z, { polygon: toFraction(z.polygon, z.units, w, h), units: "fraction" })),
      lines: regions.lines.map(l => Object.assign({}, l, { points: toFraction(l.points, l.units, w, h), units: "fraction" })),
    };
    for (const r of [...body.zones, ...body.lines]) for (const k of ["color", "anchor", "classes"]) if (r[k] === null || (Array.isArray(r[k]) && !r[k].length)) delete r[k];
    const r = await api("/api/streams/" + enc(id) + "/regions", { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    if (r.ok) { regions = r.body; renderList(); redraw(); toast("Saved: applied from the next frame"); return; }
    showErrors(r.body, list, formError, p => p.replace(/^streams\[\d+\]\./, ""));
  }
  (async () => {
    const all = await streams();
    const s = all.find(x => x.id === id);
    if (!s) { formError.textContent = "No stream '" + id + "'."; return; }
    w = s.width; h = s.height;
    const r = await api("/api/streams/" + enc(id) + "/regions");
    if (r.ok) regions = r.body;
    renderList(); redraw(); loadFrame();
  })();
  return { stop() { document.removeEventListener("keydown", onKey); } };
}

// Errors from the API next to their fields: by data-error key (the path with the stream prefix removed), else at the form.
function showErrors(body, root, formError, key) {
  const fields = (body && body.fields) || ((body && body.errors) || []).map(t => {
    const m = /^(\S+): (.*)$/s.exec(t);
    return m ? { path: m[1], message: m[2] } : { path: "", message: t };
  });
  const general = [];
  for (const f of fields) {
    const k = key(f.path || "");
    let target = root.querySelector('[data-error="' + CSS.escape(k) + '"]');
    // A deeper path (zones[0].polygon[2]) shows at its field (zones[0].polygon).
    let p = k;
    while (!target && p.includes(".")) { p = p.replace(/(\.[^.]*|\[\d+\])$/, ""); target = root.querySelector('[data-error="' + CSS.escape(p) + '"]'); }
    if (!target && /\[\d+\]$/.test(k)) target = root.querySelector('[data-error="' + CSS.escape(k.replace(/\[\d+\]$/, "")) + '"]');
    if (target) {
      target.textContent = f.message;
      const input = root.querySelector('[data-path="' + CSS.escape(target.dataset.error) + '"]');
      if (input) { input.setAttribute("aria-invalid", "true"); input.setAttribute("aria-describedby", target.id || (target.id = "err-" + Math.random().toString(36).slice(2))); }
    } else general.push((f.path ? f.path + ": " : "") + f.message);
  }
  formError.textContent = general.join("\n");
  const first = root.querySelector('[aria-invalid="true"]');
  if (first) first.focus();
}

// ---------- add / edit a stream ----------
function formView(id) {
  const editing = id !== null;
  const formError = el("p", { class: "form-error", role: "alert" });
  const field = (name, label, input, hint) => {
    input.id = "f-" + name; input.name = name; input.setAttribute("data-path", name);
    const err = el("div", { class: "error", "data-error": name, id: "e-" + name });
    const hintEl = hint ? el("div", { class: "hint", id: "h-" + name, text: hint }) : null;
    if (hint) input.setAttribute("aria-describedby", "h-" + name);
    return el("div", { class: "field" }, el("label", { for: input.id, text: label }), input, hintEl, err);
  };
  const select = (options, value) => { const s = el("select"); for (const o of options) s.append(el("option", { value: o, text: o, selected: o === value })); return s; };
  const idInput = el("input", { type: "text", autocomplete: "off", required: true, readonly: editing, value: id || "" });
  const uriInput = el("input", { type: "text", autocomplete: "off", required: true });
  const mode = select(["auto", "live", "file"], "auto");
  const maxFps = el("input", { type: "number", min: "0", max: "1000", step: "any", value: "0" });
  const transport = select(["tcp", "udp"], "tcp");
  const loop = el("input", { type: "checkbox", id: "f-loop", name: "loop", "data-path": "loop" });
  const form = el("form", { class: "stack", novalidate: true },
    field("id", "Stream id", idInput, "1..64 letters, digits, '-', '_' or '.'; part of file names, topics and metrics."),
    field("uri", "Source", uriInput, "rtsp://user:pass@camera/stream, a file path, http(s)://…, /dev/video0 or lavfi:testsrc2=size=640x360:rate=15"),
    field("mode", "Mode", mode, "live: real time, reconnects, drops when behind; file: every frame; auto: from the source."),
    field("max_fps", "Most frames per second", maxFps, "0 = every frame."),
    field("rtsp_transport", "RTSP transport", transport),
    el("div", { class: "field" }, el("div", { class: "checkbox" }, loop, el("label", { for: "f-loop", text: "Loop a file forever" })), el("div", { class: "error", "data-error": "loop" })),
    formError,
    el("div", { class: "actions" },
      el("button", { type: "submit", class: "primary", text: editing ? "Save and restart the stream" : "Add and start" }),
      editing ? el("button", { type: "button", class: "danger", text: "Remove stream", onclick: () => remove() }) : null,
      el("a", { class: "button", href: editing ? "#/stream/" + enc(id) : "#/", text: "Cancel" })));
  view.append(el("h2", { text: editing ? "Edit " + id : "Add a stream" }), form);
  if (editing) {
    (async () => {
      const r = await api("/api/streams/" + enc(id) + "/config");
      if (!r.ok) { formError.textContent = (r.body && r.body.errors || ["not found"]).join("; "); return; }
      const c = r.body;
      uriInput.value = c.uri; mode.value = c.mode; maxFps.value = c.max_fps; transport.value = c.rtsp_transport; loop.checked = c.loop;
    })();
  } else idInput.focus();
  async function remove() {
    if (!confirm("Remove stream " + id + "? It stops now and stays removed after a restart.")) return;
    const r = await api("/api/streams/" + enc(id), { method: "DELETE" });
    if (r.ok || r.status === 204) { toast("Removed " + id); location.hash = "#/"; } else showErrors(r.body, form, formError, p => p);
  }
  form.addEventListener("submit", async ev => {
    ev.preventDefault();
    formError.textContent = "";
    for (const e of form.querySelectorAll(".error")) e.textContent = "";
    for (const i of form.querySelectorAll("[aria-invalid]")) { i.removeAttribute("aria-invalid"); }
    const body = { id: idInput.value.trim(), uri: uriInput.value.trim(), mode: mode.value, rtsp_transport: transport.value };
    const fps = Number(maxFps.value);
    if (maxFps.value !== "" && fps !== 0) body.max_fps = fps;
    if (loop.checked) body.loop = true;
    // The configuration's own rules decide; a missing id or URI is caught here first, next to its field.
    const missing = [];
    if (!body.id) missing.push({ path: "id", message: "is required" });
    if (!body.uri) missing.push({ path: "uri", message: "is required" });
    if (missing.length) { showErrors({ fields: missing }, form, formError, p => p); return; }
    const r = editing
      ? await api("/api/streams/" + enc(id) + "/config", { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
      : await api("/api/streams", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    if (r.ok) { toast((editing ? "Saved " : "Added ") + body.id); location.hash = "#/stream/" + enc(body.id); return; }
    showErrors(r.body, form, formError, p => p.replace(/^streams\[\d+\]\./, "").replace(/^streams\.[^.]+$/, "id"));
  });
}

// ---------- review ----------
const TYPE_COLORS = { track_started: "#7cc4ff", track_ended: "#a3adba", zone_enter: "#4cc35a", zone_exit: "#f5a04a", line_crossed: "#ffd166", counts: "#c792ea" };
function reviewView(params) {
  const filters = el("form", { class: "filters", role: "search", "aria-label": "Filter events" });
  const sel = (name, label) => {
    const s = el("select", { id: "q-" + name, name });
    s.append(el("option", { value: "", text: "any" }));
    return [s, el("div", { class: "field" }, el("label", { for: "q-" + name, text: label }), s)];
  };
  const [streamSel, streamField] = sel("stream", "Stream");
  const [typeSel, typeField] = sel("type", "Type");
  const [classSel, classField] = sel("class", "Class");
  const range = el("select", { id: "q-since", name: "since" });
  for (const [v, t] of [["-15m", "last 15 minutes"], ["-1h", "last hour"], ["-6h", "last 6 hours"], ["-24h", "last 24 hours"], ["-7d", "last 7 days"], ["", "all kept"]]) range.append(el("option", { value: v, text: t }));
  range.value = params.get("since") ?? "-1h";
  filters.append(streamField, typeField, classField, el("div", { class: "field" }, el("label", { for: "q-since", text: "Time" }), range),
    el("button", { type: "submit", text: "Apply" }));
  const timeline = svg("svg", { class: "timeline", viewBox: "0 0 1000 70", preserveAspectRatio: "none", role: "img", "aria-label": "Timeline of the listed events" });
  const listEl = el("ol", { class: "events", "aria-label": "Events, newest first" });
  const status = el("p", { class: "muted", role: "status" });
  view.append(el("h2", { text: "Review" }), filters, timeline, status, listEl);
  let timer = 0, stopped = false, lastTop = null;
  async function facets() {
    const r = await api("/api/events/facets");
    if (!r.ok) return;
    for (const [s, values, key] of [[streamSel, r.body.streams, "stream"], [typeSel, r.body.types, "type"], [classSel, r.body.classes, "class"]]) {
      const want = params.get(key) || s.value;
      s.replaceChildren(el("option", { value: "", text: "any" }), ...values.map(v => el("option", { value: v, text: v })));
      if (want && !values.includes(want)) s.append(el("option", { value: want, text: want }));
      s.value = want || "";
    }
    if (!r.body.enabled) status.textContent = "The event store is off (ui.events.path): nothing is kept for review.";
  }
  filters.addEventListener("submit", ev => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const [k, s] of [["stream", streamSel], ["type", typeSel], ["class", classSel]]) if (s.value) q.set(k, s.value);
    q.set("since", range.value);
    params = q; lastTop = null;
    history.replaceState(null, "", "#/review?" + q.toString());
    load();
  });
  function describe(e) {
    const parts = [e.type.replace("_", " ")];
    if (e.region) parts.push(e.region);
    if (e.direction) parts.push(e.direction);
    if (e.class) parts.push(e.class);
    if (e.track_id !== null && e.track_id !== undefined) parts.push("track " + e.track_id);
    return parts.join(" · ");
  }
  function row(e) {
    let thumb;
    if (e.snapshot) {
      const img = el("img", { src: e.snapshot, alt: "Snapshot: " + describe(e) + " in " + e.stream, loading: "lazy" });
      thumb = el("a", { class: "thumb", href: e.snapshot, target: "_blank", rel: "noopener", "aria-label": "Open the snapshot of event " + e.id }, img);
      if (e.box && e.frame_width && e.frame_height) {
        const [x1, y1, x2, y2] = e.box;
        thumb.append(el("span", { class: "box", style: `left:${100 * x1 / e.frame_width}%;top:${100 * y1 / e.frame_height}%;width:${100 * (x2 - x1) / e.frame_width}%;height:${100 * (y2 - y1) / e.frame_height}%` }));
      }
    } else thumb = el("div", { class: "nothumb", text: "no picture" });
    return el("li", { class: "event", "data-event": e.id, "data-type": e.type }, thumb,
      el("div", {}, el("div", { class: "what", text: describe(e) }),
        el("div", { class: "meta" }, el("time", { datetime: e.time, text: new Date(e.time).toLocaleString() }), " · ",
          el("a", { href: "#/stream/" + enc(e.stream), text: e.stream }),
          e.duration_seconds ? " · " + e.duration_seconds.toFixed(1) + " s" : "", e.score ? " · score " + e.score.toFixed(2) : "")));
  }
  function drawTimeline(events, since) {
    timeline.replaceChildren();
    const end = Date.now();
    // From the oldest listed event (a little before it) when they cover less than the chosen time, so they spread out.
    const oldest = events.length ? Math.min(...events.map(e => Date.parse(e.time))) : null;
    let start = since ? since : (oldest ?? end - 3600e3);
    if (oldest !== null && oldest > start) start = oldest - 0.05 * (end - oldest) - 1000;
    const span = Math.max(1000, end - start);
    timeline.append(svg("line", { x1: 0, y1: 60, x2: 1000, y2: 60, stroke: "#44505f", "stroke-width": "1", "vector-effect": "non-scaling-stroke" }));
    const types = Object.keys(TYPE_COLORS);
    for (const e of events) {
      const x = 1000 * (Date.parse(e.time) - start) / span;
      const lane = Math.max(0, types.indexOf(e.type));
      timeline.append(svg("rect", { x: Math.max(0, x - 1.5), y: 4 + lane * 9, width: 3, height: 8, fill: TYPE_COLORS[e.type] || "#fff" }, svg("title", {}, describe(e) + " " + e.time)));
    }
    timeline.setAttribute("aria-label", "Timeline: " + events.length + " events from " + new Date(start).toLocaleString() + " to now");
  }
  function sinceMs(v) {
    const m = /^-(\d+(?:\.\d+)?)([mhd])$/.exec(v || "");
    return m ? Date.now() - Number(m[1]) * { m: 60e3, h: 3600e3, d: 86400e3 }[m[2]] : null;
  }
  async function load() {
    const q = new URLSearchParams(params);
    if (!q.get("since")) q.delete("since");
    q.set("limit", "200");
    const r = await api("/api/events?" + q.toString());
    if (!r.ok) { status.textContent = ((r.body && r.body.errors) || ["HTTP " + r.status]).join("; "); return; }
    const events = r.body.events;
    const top = events.length ? events[0].id : 0;
    if (top !== lastTop) {
      lastTop = top;
      listEl.replaceChildren(...events.map(row));
      drawTimeline(events, sinceMs(params.get("since") ?? "-1h"));
    }
    if (r.body.enabled !== false) status.textContent = events.length ? events.length + " event" + (events.length === 1 ? "" : "s") + (events.length === 200 ? " (the newest 200)" : "") : "No events for these filters yet.";
  }
  async function poll() {
    if (stopped) return;
    try { await load(); } catch (e) { status.textContent = "service unreachable"; }
    timer = setTimeout(poll, 2000);
  }
  facets().then(poll);
  streams().catch(() => {});
  return { stop() { stopped = true; clearTimeout(timer); } };
}

// ---------- charts ----------
function chartsView(params) {
  const streamSel = el("select", { id: "c-stream" }, el("option", { value: "", text: "whole instance" }));
  const range = el("select", { id: "c-range" });
  for (const [v, t] of [["5", "5 minutes"], ["15", "15 minutes"], ["60", "1 hour"], ["360", "6 hours"], ["1440", "24 hours"]]) range.append(el("option", { value: v, text: t }));
  range.value = params.get("minutes") || "15";
  const controls = el("div", { class: "filters" },
    el("div", { class: "field" }, el("label", { for: "c-stream", text: "Stream" }), streamSel),
    el("div", { class: "field" }, el("label", { for: "c-range", text: "Time" }), range));
  const grid = el("div", { class: "charts" });
  const status = el("p", { class: "muted", role: "status" });
  view.append(el("h2", { text: "Charts" }), controls, status, grid);
  const want = params.get("stream") || "";
  const charts = [
    ["Frames per second", [["fps", "fps", "#7cc4ff"]]],
    ["Latency (ms)", [["latency_p50_ms", "p50", "#4cc35a"], ["latency_p95_ms", "p95", "#f5a04a"], ["latency_p99_ms", "p99", "#ff6b81"]]],
    ["Objects", [["objects", "objects", "#ffd166"]]],
    ["Drops per sample", [["drops", "drops", "#ff6b81"]]],
    ["Detector time (ms)", [["detector_ms", "mean", "#c792ea"]]],
    ["Events per sample", [["events", "events", "#7cfc00"]]],
  ];
  let timer = 0, stopped = false;
  function chart(title, series, samples, minutes) {
    const W = 600, H = 150, L = 44, B = 18;
    // The chosen time, or from the first sample when there are fewer (a service that just started).
    const end = Date.now(), start = Math.max(end - minutes * 60e3, samples.length ? samples[0].t - 1000 : 0);
    let max = 0;
    for (const [k] of series) for (const s of samples) if (isFinite(s[k])) max = Math.max(max, s[k]);
    max = max > 0 ? max * 1.1 : 1;
    const x = t => L + (W - L - 4) * (t - start) / (end - start), y = v => 6 + (H - B - 6) * (1 - v / max);
    const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title + ": " + series.map(([k, n]) => n + " latest " + (samples.length ? num(samples[samples.length - 1][k], 1) : "none")).join(", ") });
    for (const f of [0, 0.5, 1]) {
      const v = max * f;
      s.append(svg("line", { x1: L, x2: W - 4, y1: y(v), y2: y(v), stroke: "#2f3742" }),
        svg("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end", fill: "#a3adba", "font-size": "11" }, v >= 100 ? v.toFixed(0) : v.toFixed(1)));
    }
    s.append(svg("text", { x: L, y: H - 3, fill: "#a3adba", "font-size": "11" }, new Date(start).toLocaleTimeString()),
      svg("text", { x: W - 4, y: H - 3, fill: "#a3adba", "font-size": "11", "text-anchor": "end" }, "now"));
    for (const [k, , color] of series) {
      const pts = samples.filter(p => isFinite(p[k])).map(p => x(p.t).toFixed(1) + "," + y(p[k]).toFixed(1)).join(" ");
      if (pts) s.append(svg("polyline", { points: pts, fill: "none", stroke: color, "stroke-width": "2", "data-series": k }));
    }
    return el("figure", { class: "chart", "data-chart": series[0][0] }, el("figcaption", {}, el("b", { text: title }),
      el("div", { class: "legend" }, series.map(([, n, c]) => el("span", { style: "--c:" + c, text: n })))), s);
  }
  async function load() {
    const minutes = Number(range.value);
    const r = await api("/api/charts?minutes=" + minutes + (streamSel.value ? "&stream=" + enc(streamSel.value) : ""));
    if (!r.ok) { status.textContent = ((r.body && r.body.errors) || ["HTTP " + r.status]).join("; "); return; }
    const known = new Set([...streamSel.options].map(o => o.value));
    for (const id of r.body.streams) if (!known.has(id)) streamSel.append(el("option", { value: id, text: id }));
    const samples = r.body.samples;
    status.textContent = samples.length ? samples.length + " samples, one every " + r.body.sample_seconds + " s" + (minutes > 60 ? " (older ones averaged)" : "") : "No samples yet: the first arrives within " + r.body.sample_seconds + " s.";
    grid.replaceChildren(...charts.map(([t, s]) => chart(t, s, samples, minutes)));
  }
  async function poll() {
    if (stopped) return;
    try { await load(); } catch (e) { status.textContent = "service unreachable"; }
    timer = setTimeout(poll, 2000);
  }
  streamSel.addEventListener("change", () => { history.replaceState(null, "", "#/charts?stream=" + enc(streamSel.value) + "&minutes=" + range.value); load(); });
  range.addEventListener("change", () => { history.replaceState(null, "", "#/charts?stream=" + enc(streamSel.value) + "&minutes=" + range.value); load(); });
  if (want) { streamSel.append(el("option", { value: want, text: want })); streamSel.value = want; }
  poll();
  streams().catch(() => {});
  return { stop() { stopped = true; clearTimeout(timer); } };
}

route();
