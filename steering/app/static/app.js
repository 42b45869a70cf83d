// cheese-maze activation patching: the page. Plain JS + SVG, no build step, nothing external.
// The state (agent, maze, patches, target) lives in the URL hash (#s=<base64 JSON>) and in a
// server-side session created for each page load (its id is also left in sessionStorage).
"use strict";
const $ = (id) => document.getElementById(id);
const SVGNS = "http://www.w3.org/2000/svg";
let sid = null, state = null, view = null, agentInfo = null, patchTypes = [];
let animTimer = null, drag = null, actData = null;

// ------------------------------------------------------------------ server
async function api(method, path, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  $("busy").textContent = "working...";
  try {
    const r = await fetch(path, opts);
    const data = await r.json().catch(() => ({}));
    if (!r.ok) {
      const d = data.detail;
      const msg = Array.isArray(d) ? d.map((x) => `${(x.loc || []).join(".")}: ${x.msg}`).join("\n") : JSON.stringify(d);
      const err = new Error(msg); err.status = r.status; throw err;
    }
    $("error").hidden = true;
    return data;
  } finally { $("busy").textContent = ""; }
}
function showError(e) { $("error").textContent = String(e.message || e); $("error").hidden = false; }

async function sessionCall(method, what, body) {
  try { return await api(method, `/api/session/${sid}/${what}`, body); }
  catch (e) {
    if (e.status !== 404) throw e;
    await newSession();  // expired or the server restarted: start over from our state
    if (what !== "state" || method !== "PUT") await api("PUT", `/api/session/${sid}/state`, state);
    return await api(method, `/api/session/${sid}/${what}`, body);
  }
}
async function newSession() {
  const r = await api("POST", "/api/session");
  sid = r.session; sessionStorage.setItem("sid", sid);
  return r;
}

// ------------------------------------------------------------------ state <-> URL
function encodeState(s) { return btoa(unescape(encodeURIComponent(JSON.stringify(s)))); }
function decodeState(h) { return JSON.parse(decodeURIComponent(escape(atob(h)))); }
function stateFromHash() {
  const m = location.hash.match(/[#&]s=([^&]+)/);
  if (!m) return null;
  try { return decodeState(m[1]); } catch (e) { showError("could not read the state in the URL: " + e); return null; }
}
function writeHash() {
  const h = "#s=" + encodeState(state);
  history.replaceState(null, "", h);
  $("share").href = location.href;
}

async function setState(next) {
  try {
    const v = await sessionCall("PUT", "state", next);
    await adopt(v);
  } catch (e) { showError(e); }
}
async function adopt(v) {
  const agentChanged = !state || !agentInfo || v.state.agent !== agentInfo.name;
  view = v; state = v.state;
  if (agentChanged) await loadAgentInfo(state.agent);
  writeHash(); syncControls(); render(); renderPatches(); refreshActivations();
}

// ------------------------------------------------------------------ controls
function syncControls() {
  $("agent").value = state.agent;
  $("seed").value = state.maze.seed;
  $("size").value = state.maze.size === null ? "" : String(state.maze.size);
  $("cheese-spec").value = state.maze.cheese;
  $("mouse-spec").value = state.maze.mouse;
  $("no-cheese").checked = state.maze.no_cheese;
}
function mazeFromControls() {
  const size = $("size").value;
  return {
    seed: Number($("seed").value), size: size === "" ? null : Number(size),
    cheese: $("cheese-spec").value, mouse: $("mouse-spec").value, no_cheese: $("no-cheese").checked,
    toggled: [], cheese_cell: null, mouse_cell: null,
  };
}
async function loadAgentInfo(name) {
  agentInfo = await api("GET", `/api/agents/${encodeURIComponent(name)}`);
  const conv = agentInfo.layers.filter((l) => l.shape.length === 3).map((l) => l.name);
  const def = conv.includes("embedder.block2.res1.resadd_out") ? "embedder.block2.res1.resadd_out" : conv[conv.length - 1];
  for (const sel of document.querySelectorAll(".conv-layers")) {
    const keep = sel.value;
    sel.innerHTML = conv.map((n) => `<option>${n}</option>`).join("");
    sel.value = conv.includes(keep) ? keep : def;
  }
}
function mode() { return document.querySelector("input[name=mode]:checked").value; }
function shown() { return document.querySelector("input[name=show]:checked").value; }

// ------------------------------------------------------------------ drawing
function el(tag, attrs, parent) {
  const e = document.createElementNS(SVGNS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}
function viewBox(level) {
  const lo = Math.max(level.margin - 1, 0), n = Math.min(level.maze_size + 2, level.world_size);
  return `${lo} ${lo} ${n} ${n}`;
}
let arrowVersion = 0;
function render() {
  const svg = $("maze"), lv = view.level;
  svg.innerHTML = "";
  svg.setAttribute("viewBox", viewBox(lv));
  const cells = el("g", { id: "cells" }, svg);
  for (let r = 0; r < lv.world_size; r++)
    for (let c = 0; c < lv.world_size; c++)
      el("rect", { x: c, y: r, width: 1, height: 1, class: "cell " + (lv.walls[r][c] ? "wall" : "open"), "data-r": r, "data-c": c }, cells);
  const ov = el("g", { class: "overlay" }, svg);
  if (state.target) el("rect", { id: "target", x: state.target[1] + 0.08, y: state.target[0] + 0.08, width: 0.84, height: 0.84, fill: "none", stroke: "#d22", "stroke-width": 0.12 }, ov);
  if (lv.cheese) el("circle", { id: "cheese", cx: lv.cheese[1] + 0.5, cy: lv.cheese[0] + 0.5, r: 0.33, fill: "#f5c518", stroke: "#a80" , "stroke-width": 0.05}, ov);
  el("circle", { id: "mouse", cx: lv.mouse[1] + 0.5, cy: lv.mouse[0] + 0.5, r: 0.3, fill: "#888", stroke: "#222", "stroke-width": 0.05 }, ov);
  drawArrows();
}
function drawArrows() {
  const svg = $("maze");
  const old = $("arrows"); if (old) old.remove();
  const which = shown(), f = view[which];
  const g = el("g", { id: "arrows", class: "arrows" + (which === "diff" ? " diff" : "") });
  svg.insertBefore(g, svg.querySelector(".overlay"));
  // probabilities: full length 0.45 cell; the difference: its longest arrow is 0.45 cell
  const longest = Math.max(0, ...f.vectors.map(([a, b]) => Math.hypot(a, b)));
  const scale = which === "diff" ? (longest > 1e-4 ? 0.45 / longest : 0) : 0.45;
  $("scale-note").textContent = which === "diff" ? `difference arrows scaled: the longest is ${longest.toFixed(3)}` : "";
  f.cells.forEach(([r, c], i) => {
    const [dx, dy] = f.vectors[i];
    const x = c + 0.5, y = r + 0.5, x2 = x + scale * dx, y2 = y - scale * dy;
    if (Math.abs(dx) + Math.abs(dy) < 1e-3) return;
    el("line", { x1: x, y1: y, x2, y2 }, g);
    const len = Math.hypot(x2 - x, y2 - y), ux = (x2 - x) / len, uy = (y2 - y) / len, h = Math.min(0.15, len * 0.5);
    el("line", { x1: x2, y1: y2, x2: x2 - h * (ux - uy * 0.6), y2: y2 - h * (uy + ux * 0.6) }, g);
    el("line", { x1: x2, y1: y2, x2: x2 - h * (ux + uy * 0.6), y2: y2 - h * (uy - ux * 0.6) }, g);
  });
  g.setAttribute("data-version", String(++arrowVersion));
  g.setAttribute("data-digest", digest(f));
  const m = view.modified;
  $("modified").textContent = m
    ? `activations modified: ${(100 * m.total.fraction_layer).toFixed(3)}% of the patched layer(s), ` +
      `${(100 * m.total.fraction_network).toFixed(4)}% of the network (${m.total.modified} of ${m.network_size})`
    : "no patch: activations modified 0%";
}
function digest(f) { let s = 0; f.vectors.forEach(([a, b], i) => { s += (i + 1) * (a * 3.1 + b * 7.7); }); return s.toFixed(4); }

// ------------------------------------------------------------------ maze interaction
function cellAt(evt) {
  const t = document.elementFromPoint(evt.clientX, evt.clientY);
  if (!t || !t.dataset || t.dataset.r === undefined) return null;
  return [Number(t.dataset.r), Number(t.dataset.c)];
}
function same(a, b) { return a && b && a[0] === b[0] && a[1] === b[1]; }
function onDown(evt) {
  const cell = cellAt(evt); if (!cell) return;
  const lv = view.level;
  drag = { from: cell, piece: same(cell, lv.cheese) ? "cheese" : same(cell, lv.mouse) ? "mouse" : null };
}
async function onUp(evt) {
  const cell = cellAt(evt), d = drag; drag = null;
  if (!cell || !d) return;
  if (d.piece && !same(cell, d.from)) return movePiece(d.piece, cell);
  if (!same(cell, d.from)) return;
  const m = mode();
  if (m === "walls") {
    const t = state.maze.toggled.filter((x) => !same(x, cell));
    if (t.length === state.maze.toggled.length) t.push(cell);
    return setState({ ...state, maze: { ...state.maze, toggled: t } });
  }
  if (m === "cheese" || m === "mouse") return movePiece(m, cell);
  return retarget(cell);
}
function movePiece(piece, cell) {
  const maze = { ...state.maze };
  if (piece === "cheese") { maze.cheese_cell = cell; maze.no_cheese = false; } else maze.mouse_cell = cell;
  return setState({ ...state, maze });
}
async function retarget(cell) {
  const body = { cell, layer: $("rt-layer").value };
  const ch = $("rt-channels").value.trim();
  if (ch) body.channels = ch.split(/[ ,]+/).filter(Boolean).map(Number);
  if ($("rt-magnitude").value !== "") body.magnitude = Number($("rt-magnitude").value);
  try { await adopt(await sessionCall("POST", "retarget", body)); } catch (e) { showError(e); }
}

// ------------------------------------------------------------------ rollouts
async function runRollout() {
  if (animTimer) clearInterval(animTimer);
  $("outcome").textContent = "rolling out..."; $("outcome").dataset.outcome = "";
  let r;
  try {
    r = await sessionCall("POST", "rollout", { greedy: $("greedy").checked, seed: Number($("roll-seed").value), max_steps: Number($("max-steps").value) });
  } catch (e) { $("outcome").textContent = ""; return showError(e); }
  const svg = $("maze"), ov = svg.querySelector(".overlay"), mouse = $("mouse");
  const old = $("path"); if (old) old.remove();
  const path = el("polyline", { id: "path", fill: "none", stroke: "#e07000", "stroke-width": 0.12, "stroke-opacity": 0.8, points: "" }, ov);
  const pts = r.trajectory.map(([a, b]) => `${b + 0.5},${a + 0.5}`);
  let i = 0;
  const finish = () => {
    clearInterval(animTimer); animTimer = null;
    $("outcome").textContent = `outcome: ${r.outcome} after ${r.steps} steps`;
    $("outcome").dataset.outcome = r.outcome;
  };
  const step = () => {
    if (i >= pts.length) return finish();
    const [a, b] = r.trajectory[i];
    mouse.setAttribute("cx", b + 0.5); mouse.setAttribute("cy", a + 0.5);
    path.setAttribute("points", pts.slice(0, i + 1).join(" "));
    $("outcome").textContent = `step ${i} / ${r.steps}`;
    i++;
  };
  animTimer = setInterval(step, Math.max(1, Number($("speed").value)));
}
async function runRollouts() {
  $("rate").textContent = "running...";
  try {
    const r = await sessionCall("POST", "rollouts", { n: Number($("n-rollouts").value), seed: Number($("roll-seed").value), max_steps: Number($("max-steps").value) });
    $("rate").textContent = `reached ${r.goal}: ${r.k}/${r.n} = ${r.rate.toFixed(2)} [${r.lo.toFixed(2)}, ${r.hi.toFixed(2)}] (Wilson 95%)`;
  } catch (e) { $("rate").textContent = ""; showError(e); }
}

// ------------------------------------------------------------------ patches
function renderPatches() {
  const list = $("patch-list");
  list.innerHTML = "";
  state.patches.forEach((p, i) => {
    const div = document.createElement("div"); div.className = "patch"; div.dataset.index = i;
    const head = document.createElement("div"); head.className = "head";
    head.innerHTML = `<span><b>${i}: ${p.type}</b> ${p.layer || ""}</span>`;
    const del = document.createElement("button"); del.textContent = "remove"; del.className = "remove";
    del.onclick = () => setState({ ...state, patches: state.patches.filter((_, j) => j !== i) });
    head.appendChild(del); div.appendChild(head);
    for (const [k, v] of Object.entries(p)) {
      if (typeof v !== "number") continue;  // every scalar field gets a slider, whatever the type
      const lim = Math.max(10, 2 * Math.abs(v));
      const row = document.createElement("div");
      row.innerHTML = `${k} <input type="range" min="${-lim}" max="${lim}" step="0.05" value="${v}" data-field="${k}"> <input type="number" step="0.05" value="${v}" style="width:5em" data-field="${k}">`;
      for (const inp of row.querySelectorAll("input")) {
        inp.onchange = () => {
          const patches = state.patches.map((q, j) => (j === i ? { ...q, [k]: Number(inp.value) } : q));
          setState({ ...state, patches });
        };
      }
      div.appendChild(row);
    }
    const det = document.createElement("details");
    det.innerHTML = "<summary>JSON</summary>";
    const ta = document.createElement("textarea"); ta.rows = 4; ta.value = JSON.stringify(p);
    const ap = document.createElement("button"); ap.textContent = "apply JSON";
    ap.onclick = () => {
      let q; try { q = JSON.parse(ta.value); } catch (e) { return showError("patch JSON: " + e); }
      setState({ ...state, patches: state.patches.map((x, j) => (j === i ? q : x)) });
    };
    det.appendChild(ta); det.appendChild(ap); div.appendChild(det);
    list.appendChild(div);
  });
}
function patchTemplate(t) {
  const d = { type: t.type };
  for (const f of t.fields) {
    if (f.name === "layer") d.layer = $("rt-layer").value;
    else d[f.name] = f.required ? null : f.default;
  }
  return d;
}
function onPatchType() {
  const t = patchTypes.find((x) => x.type === $("pt-type").value);
  if (!t) return;
  $("pt-summary").textContent = t.summary; $("pt-summary").title = t.doc;
  $("pt-json").value = JSON.stringify(patchTemplate(t));
}
async function exportPatches() {
  try {
    const ps = await sessionCall("GET", "patches");
    const text = JSON.stringify(ps, null, 1);
    $("io-json").value = text;
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    a.download = "patches.json"; a.click();
  } catch (e) { showError(e); }
}
function importPatches(text) {
  let ps; try { ps = JSON.parse(text); } catch (e) { return showError("import: not JSON: " + e); }
  if (!Array.isArray(ps)) ps = [ps];
  setState({ ...state, patches: ps });
}

// ------------------------------------------------------------------ activations
function color(v, m) {
  const t = Math.max(-1, Math.min(1, m > 0 ? v / m : 0));
  const a = Math.round(255 * (1 - Math.abs(t)));
  return t >= 0 ? `rgb(255,${a},${a})` : `rgb(${a},${a},255)`;
}
async function refreshActivations() {
  if (!state) return;
  try {
    actData = await sessionCall("POST", "activations", { layer: $("act-layer").value, patched: $("act-patched").checked });
  } catch (e) { return showError(e); }
  const ch = Math.min(Number($("act-channel").value), actData.shape[0] - 1);
  $("act-channel").max = actData.shape[0] - 1; $("act-channel").value = ch;
  drawHeatmap(ch); drawGrid(ch);
}
function drawHeatmap(ch) {
  const svg = $("act-map"), lv = view.level, vals = actData.values[ch], ax = actData.axis;
  const m = Math.max(...vals.flat().map(Math.abs));
  svg.innerHTML = ""; svg.setAttribute("viewBox", viewBox(lv));
  for (let r = 0; r < lv.world_size; r++)
    for (let c = 0; c < lv.world_size; c++) {
      const v = vals[ax[r]][ax[c]];
      const rect = el("rect", { x: c, y: r, width: 1, height: 1, fill: color(v, m), stroke: lv.walls[r][c] ? "#000" : "none", "stroke-width": 0.04, "data-r": r, "data-c": c }, svg);
      rect.onmouseenter = () => { $("act-hover").textContent = `cell (${r}, ${c}) -> activation [${ch}, ${ax[r]}, ${ax[c]}] = ${v.toFixed(3)}`; };
    }
}
function drawGrid(sel) {
  const grid = $("act-grid"); grid.innerHTML = "";
  actData.values.forEach((chan, k) => {
    const h = chan.length, w = chan[0].length, cv = document.createElement("canvas");
    cv.width = w; cv.height = h; cv.title = `channel ${k}`; if (k === sel) cv.className = "sel";
    const ctx = cv.getContext("2d"), m = Math.max(...chan.flat().map(Math.abs));
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) { ctx.fillStyle = color(chan[i][j], m); ctx.fillRect(j, i, 1, 1); }
    cv.onclick = () => { $("act-channel").value = k; drawHeatmap(k); drawGrid(k); };
    grid.appendChild(cv);
  });
}

// ------------------------------------------------------------------ start
async function main() {
  const sizes = ["", 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25];
  $("size").innerHTML = sizes.map((s) => `<option value="${s}">${s === "" ? "procgen" : s}</option>`).join("");
  const ag = await api("GET", "/api/agents");
  $("agent").innerHTML = ag.agents.map((n) => `<option>${n}</option>`).join("");
  patchTypes = await api("GET", "/api/patch_types");
  $("pt-type").innerHTML = patchTypes.map((t) => `<option>${t.type}</option>`).join("");
  // a fresh server-side session for every page load (a duplicated tab must not share one);
  // the state itself comes back from the URL
  const fromUrl = stateFromHash();
  let v = (await newSession()).view;
  if (fromUrl) { try { v = await api("PUT", `/api/session/${sid}/state`, fromUrl); } catch (e) { showError(e); } }
  await adopt(v);
  onPatchType();

  const svg = $("maze");
  svg.addEventListener("pointerdown", onDown);
  svg.addEventListener("pointerup", onUp);
  $("new-maze").onclick = () => setState({ ...state, maze: mazeFromControls(), target: null });
  $("reset-edits").onclick = () => setState({ ...state, maze: { ...state.maze, toggled: [], cheese_cell: null, mouse_cell: null } });
  $("agent").onchange = () => setState({ ...state, agent: $("agent").value, patches: [], target: null });
  for (const r of document.querySelectorAll("input[name=show]")) r.onchange = drawArrows;
  $("run-rollout").onclick = runRollout;
  $("run-rollouts").onclick = runRollouts;
  $("sv-add").onclick = async () => {
    try { await adopt(await sessionCall("POST", "vector", { kind: $("sv-kind").value, layer: $("sv-layer").value, coeff: Number($("sv-coeff").value) })); }
    catch (e) { showError(e); }
  };
  $("pt-type").onchange = onPatchType;
  $("pt-add").onclick = () => {
    let p; try { p = JSON.parse($("pt-json").value); } catch (e) { return showError("patch JSON: " + e); }
    setState({ ...state, patches: [...state.patches, p] });
  };
  $("export").onclick = exportPatches;
  $("import").onclick = () => importPatches($("io-json").value);
  $("import-file").onchange = async (e) => { const f = e.target.files[0]; if (f) importPatches(await f.text()); };
  $("clear-patches").onclick = () => setState({ ...state, patches: [], target: null });
  $("act-layer").onchange = refreshActivations;
  $("act-patched").onchange = refreshActivations;
  $("act-channel").onchange = () => { const k = Number($("act-channel").value); drawHeatmap(k); drawGrid(k); };
  document.body.dataset.ready = "1";
}
main().catch(showError);
