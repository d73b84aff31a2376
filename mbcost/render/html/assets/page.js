/* mbcost's HTML pages: the interactions. Layout is dagre's, charts are Chart.js's; this file
   reads the page's JSON (#data: the command's --format json document; #extra: what the page
   needs beyond it), draws the layer graph from dagre's coordinates, wires the charts, and makes
   the tables sortable and filterable. Every string from the user's files reaches the page as
   textContent, never as markup. */
"use strict";
(() => {
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
  // integers past 2^53 (a sweep past int64) stay exact: JSON.parse's source text gives them as BigInt
  const parse = (id) => JSON.parse(document.getElementById(id).textContent, (key, v, ctx) =>
    typeof v === "number" && !Number.isSafeInteger(v) && ctx && /^-?\d+$/.test(ctx.source) ? BigInt(ctx.source) : v);
  const DATA = parse("data"), EXTRA = parse("extra");
  const api = { data: DATA, extra: EXTRA, charts: {}, graphs: {} };
  window.mbcost = api;

  const exact = (v) => v === null || v === undefined ? "" :
    typeof v === "bigint" || Number.isInteger(v) ? v.toLocaleString("en-US") : String(v);
  const human = (v) => {
    const n = Number(v);
    for (const [d, u] of [[1e9, "G"], [1e6, "M"], [1e3, "K"]]) if (Math.abs(n) >= d) return (n / d).toFixed(1).replace(/\.0$/, "") + u;
    return exact(v);
  };
  const shape = (s) => Array.isArray(s) ? s.join("×") : String(s);
  function el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  }
  const SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs = {}, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // --- tables: sort by any header, filter by text and by attribute ---------------------------
  const rowIndex = new Map(); // table id → Map(row attribute value → tr), for the graph's links
  function initTable(table) {
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    rows.forEach((r, i) => { r.dataset.i = i; });
    $$("thead th", table).forEach((th, col) => {
      th.tabIndex = 0;
      const sort = () => {
        const dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
        $$("thead th", table).forEach((h) => h.removeAttribute("aria-sort"));
        th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
        const key = (r) => {
          const td = r.cells[col];
          if (td.dataset.v !== undefined) return [0, Number(td.dataset.v)];
          const t = td.textContent;
          return t === "" ? [1, ""] : [0, t];
        };
        const keyed = Array.from(body.rows).map((r) => [key(r), Number(r.dataset.i), r]);
        keyed.sort((a, b) => {
          if (a[0][0] !== b[0][0]) return a[0][0] - b[0][0]; // empty cells last, either way
          const x = a[0][1], y = b[0][1];
          const c = typeof x === "number" ? x - y : x.localeCompare(y, "en", { numeric: true });
          return c ? dir * c : a[1] - b[1];
        });
        body.append(...keyed.map((k) => k[2]));
      };
      th.addEventListener("click", sort);
      th.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
    });
    const tools = document.querySelector(`.tools[data-for="${table.id}"]`);
    if (!tools) return;
    const text = tools.querySelector(".filter-text"), count = tools.querySelector(".count");
    const selects = $$(".filter-attr", tools);
    const apply = () => {
      const needle = text.value.trim().toLowerCase();
      let shown = 0;
      for (const r of rows) {
        const ok = (!needle || (r.dataset.name || "").toLowerCase().includes(needle)) &&
          selects.every((s) => !s.value || r.dataset[s.dataset.attr] === s.value);
        r.hidden = !ok;
        shown += ok;
      }
      count.textContent = shown === rows.length ? `${rows.length} rows` : `${shown} of ${rows.length} rows`;
    };
    text.addEventListener("input", apply);
    selects.forEach((s) => s.addEventListener("change", apply));
  }

  function rowsBy(tableId, attr) {
    const key = tableId + "\u0000" + attr;
    if (!rowIndex.has(key)) {
      const m = new Map();
      const t = document.getElementById(tableId);
      if (t) for (const r of t.tBodies[0].rows) if (r.dataset[attr]) m.set(r.dataset[attr], r);
      rowIndex.set(key, m);
    }
    return rowIndex.get(key);
  }

  // --- the layer graph: dagre's layout, drawn as SVG ------------------------------------------
  const BOX_W = 184, BOX_H = 48;
  const cut = (s, n) => s.length > n ? s.slice(0, n - 1) + "…" : s;
  const stride = (s) => Array.isArray(s) ? (s[0] === 1 && s[1] === 1 ? "" : ` /${s.join("×")}`) : (s > 1 ? ` /${s}` : "");

  class LayerGraph {
    constructor(host, layers, spec, link) {
      this.host = host; this.layers = layers; this.spec = spec; this.link = link; // link: {table, attr}
      this.tools = document.querySelector(`.graph-tools[data-graph="${host.dataset.graph}"]`);
      this.collapsed = new Set(); this.scale = 1; this.selected = null;
      this.blocks = [...new Set(layers.map((l) => l.block).filter((b) => b !== null && b !== undefined))];
      this.byName = new Map(layers.map((l, i) => [l.name, i]));
      const metrics = (spec.status ? [["status", "status", ""]] : []).concat(spec.metrics);
      this.metric = metrics[0][0];
      const select = this.tools.querySelector(".graph-metric");
      for (const [f, label] of metrics) select.append(el("option", { value: f }, label));
      select.addEventListener("change", () => { this.metric = select.value; this.shade(); });
      this.tools.querySelector(".collapse-all").addEventListener("click", () => { this.blocks.forEach((b) => this.collapsed.add(b)); this.draw(); });
      this.tools.querySelector(".expand-all").addEventListener("click", () => { this.collapsed.clear(); this.draw(); });
      this.tools.querySelector(".zoom-in").addEventListener("click", () => this.zoom(1.25));
      this.tools.querySelector(".zoom-out").addEventListener("click", () => this.zoom(0.8));
      if (!this.blocks.length) for (const b of $$(".collapse-all, .expand-all", this.tools)) b.hidden = true;
      if (link) for (const [name, tr] of rowsBy(link.table, link.attr)) {
        tr.classList.add("linked");
        tr.addEventListener("click", () => this.select(name, "row"));
      }
      this.draw();
    }

    owner(tensor) { return this.byName.has(tensor) ? tensor : (this.spec.parts[tensor] ?? tensor); }

    layout() {
      const g = new dagre.graphlib.Graph({ compound: true });
      g.setGraph({ rankdir: "TB", nodesep: 18, ranksep: 26, marginx: 10, marginy: 10 });
      g.setDefaultEdgeLabel(() => ({}));
      const nodeOf = new Map([["input", "I"]]);
      g.setNode("I", { width: BOX_W, height: 30, what: "input" });
      const blockId = new Map(this.blocks.map((b, k) => [b, k]));
      this.layers.forEach((l, i) => {
        const k = blockId.get(l.block);
        if (k !== undefined && this.collapsed.has(l.block)) {
          const id = "B" + k;
          if (!g.hasNode(id)) g.setNode(id, { width: BOX_W, height: BOX_H, what: "block", block: l.block, members: [] });
          g.node(id).members.push(i);
          nodeOf.set(l.name, id);
        } else {
          g.setNode("L" + i, { width: BOX_W, height: BOX_H, what: "layer", layer: i });
          nodeOf.set(l.name, "L" + i);
          if (k !== undefined) {
            if (!g.hasNode("C" + k)) g.setNode("C" + k, { what: "cluster", block: l.block });
            g.setParent("L" + i, "C" + k);
          }
        }
      });
      this.layers.forEach((l) => {
        const w = nodeOf.get(l.name);
        for (const t of l.inputs) {
          const v = nodeOf.get(this.owner(t));
          if (v && v !== w && !g.hasEdge(v, w)) g.setEdge(v, w);
        }
      });
      dagre.layout(g);
      return g;
    }

    draw() {
      const g = this.layout(), size = g.graph();
      this.width = size.width; this.height = size.height;
      const root = svg("svg", { class: "dag", viewBox: `0 0 ${size.width} ${size.height}`, role: "img",
                                "aria-label": `layer graph, ${this.layers.length} layers` });
      const defs = svg("defs");
      const marker = svg("marker", { id: `arrow-${this.host.id}`, viewBox: "0 0 8 8", refX: 7, refY: 4, markerWidth: 7, markerHeight: 7, orient: "auto" });
      marker.append(svg("path", { d: "M0,0 L8,4 L0,8 z", class: "arrow" }));
      defs.append(marker); root.append(defs);
      const clusters = svg("g"), edges = svg("g"), nodes = svg("g");
      root.append(clusters, edges, nodes);
      this.boxes = new Map(); this.nodes = [];
      for (const id of g.nodes()) {
        const n = g.node(id);
        if (n.what === "cluster") {
          const c = svg("g", { class: "cluster", "data-block": n.block });
          c.append(svg("rect", { x: n.x - n.width / 2, y: n.y - n.height / 2, width: n.width, height: n.height, rx: 6 }));
          const label = svg("text", { x: n.x - n.width / 2 + 6, y: n.y - n.height / 2 + 11, class: "cluster-label" }, `▾ ${cut(n.block, 30)}`);
          label.append(svg("title", {}, `block ${n.block}: click to fold`));
          c.append(label);
          label.addEventListener("click", () => { this.collapsed.add(n.block); this.draw(); });
          clusters.append(c);
          continue;
        }
        const x = n.x - n.width / 2, y = n.y - n.height / 2;
        const box = svg("g", { transform: `translate(${x},${y})` });
        box.append(svg("rect", { width: n.width, height: n.height, rx: 4 }));
        let lines, tip;
        if (n.what === "input") {
          box.setAttribute("class", "node io");
          lines = [`input ${shape(this.spec.input)}`];
          tip = `network input ${shape(this.spec.input)}`;
        } else if (n.what === "block") {
          const last = this.layers[n.members[n.members.length - 1]];
          box.setAttribute("class", "node block");
          box.dataset.block = n.block;
          lines = [cut(`▸ ${n.block}`, 26), `${n.members.length} layers`, shape(last.output_shape)];
          tip = `block ${n.block}: ${n.members.length} layers (click to unfold)`;
          box.addEventListener("click", () => { this.collapsed.delete(n.block); this.draw(); });
        } else {
          const l = this.layers[n.layer];
          box.setAttribute("class", "node layer");
          box.dataset.layer = l.name;
          lines = [cut(l.name, 26), cut(`${l.type}${stride(l.stride)}`, 30), shape(l.output_shape)];
          tip = `${l.name}\n${l.type}${stride(l.stride)} · ${l.kind}\n${shape(l.output_shape)}`;
          this.boxes.set(l.name, box);
          box.addEventListener("click", () => this.select(l.name, "box"));
        }
        lines.forEach((t, j) => box.append(svg("text", { x: 8, y: (n.what === "input" ? 19 : 15 + 14 * j), class: j ? "sub" : "name" }, t)));
        const title = svg("title", {}, tip);
        box.append(title);
        nodes.append(box);
        this.nodes.push({ box, n, title, tip });
      }
      for (const e of g.edges()) {
        const pts = g.edge(e).points;
        edges.append(svg("path", { class: "edge", d: "M" + pts.map((p) => `${p.x},${p.y}`).join(" L"), "marker-end": `url(#arrow-${this.host.id})` }));
      }
      this.svg = root;
      this.host.replaceChildren(root);
      this.zoom(1);
      this.shade();
      if (this.selected) this.mark(this.selected);
    }

    value(n) {
      const f = this.metric;
      const of = (i) => Number(this.layers[i][f] ?? 0);
      return n.what === "layer" ? of(n.layer) : n.what === "block" ? n.members.reduce((s, i) => s + of(i), 0) : 0;
    }

    shade() {
      const status = this.metric === "status";
      const [, label, unit] = (this.spec.metrics.find((m) => m[0] === this.metric) || [null, "status", ""]);
      const values = this.nodes.map(({ n }) => status ? 0 : this.value(n));
      const max = Math.max(1e-300, ...values), total = this.layers.reduce((s, l) => s + Number(l[this.metric] ?? 0), 0) || 1;
      this.nodes.forEach(({ box, n, title, tip }, j) => {
        const rect = box.firstChild;
        box.classList.remove("dark");
        for (const c of Array.from(box.classList)) if (c.startsWith("st-")) box.classList.remove(c);
        if (n.what === "input") return;
        if (status) {
          rect.removeAttribute("style");
          const names = n.what === "layer" ? [this.layers[n.layer].name] : n.members.map((i) => this.layers[i].name);
          const st = names.map((x) => this.spec.status[x]).find((s) => s && s !== "unchanged" && s !== "ok") ||
            this.spec.status[names[0]] || "none";
          box.classList.add("st-" + st);
          title.textContent = `${tip}\n${st}`;
          return;
        }
        const t = values[j] / max;
        rect.style.fill = `hsl(212, ${30 + 45 * t}%, ${97 - 55 * t}%)`;
        if (t > 0.55) box.classList.add("dark");
        title.textContent = `${tip}\n${label}: ${exact(values[j])}${unit ? " " + unit : ""} (${(100 * values[j] / total).toFixed(2)}%)`;
      });
    }

    zoom(f) {
      this.scale = Math.min(4, Math.max(0.1, this.scale * f));
      this.svg.setAttribute("width", Math.round(this.width * this.scale));
      this.svg.setAttribute("height", Math.round(this.height * this.scale));
    }

    // a layer chosen in the graph or its table: both show it
    select(name, from) {
      const i = this.byName.get(name);
      if (i === undefined) return;
      const block = this.layers[i].block;
      if (block !== null && this.collapsed.has(block)) { this.collapsed.delete(block); this.selected = name; this.draw(); }
      this.selected = name;
      this.mark(name);
      const box = this.boxes.get(name);
      if (from === "row" && box) {
        const r = box.getBBox(), m = box.transform.baseVal.consolidate().matrix;
        this.host.scrollTo({ top: (m.f + r.height / 2) * this.scale - this.host.clientHeight / 2,
                             left: (m.e + r.width / 2) * this.scale - this.host.clientWidth / 2 });
      }
      const row = this.link && rowsBy(this.link.table, this.link.attr).get(name);
      if (from === "box" && row) {
        if (row.hidden) row.hidden = false;
        row.scrollIntoView({ block: "center" });
      }
    }

    mark(name) {
      for (const b of this.host.querySelectorAll(".node.selected")) b.classList.remove("selected");
      this.boxes.get(name)?.classList.add("selected");
      if (!this.link) return;
      const rows = rowsBy(this.link.table, this.link.attr);
      for (const r of document.getElementById(this.link.table).querySelectorAll("tr.selected")) r.classList.remove("selected");
      rows.get(name)?.classList.add("selected");
    }
  }

  function graphAt(key, layers, spec, link) {
    const host = document.getElementById("graph-" + key);
    if (host && layers) api.graphs[key] = new LayerGraph(host, layers, spec, link);
  }

  // --- charts (Chart.js) ------------------------------------------------------------------------
  const PALETTE = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C", "#CCB974", "#64B5CD"];
  const tip = document.getElementById("tooltip");
  // an HTML tooltip (the canvas' own is pixels): lines of [text, field, exact value]
  const htmlTooltip = (lines) => ({ chart, tooltip: t }) => {
    if (!t || t.opacity === 0 || !t.dataPoints || !t.dataPoints.length) { tip.hidden = true; return; }
    tip.replaceChildren(...lines(t.dataPoints[0]).map(([text, field, v], j) => {
      const line = el(j ? "div" : "strong", {}, text);
      if (field) { line.dataset.field = field; line.dataset.v = String(v); }
      return line;
    }));
    tip.hidden = false;
    const r = chart.canvas.getBoundingClientRect();
    const left = window.scrollX + r.left + t.caretX + 14;
    tip.style.left = Math.min(left, window.scrollX + document.documentElement.clientWidth - tip.offsetWidth - 8) + "px";
    tip.style.top = (window.scrollY + r.top + t.caretY + 14) + "px";
  };
  function chart(id, config, lines) {
    const canvas = document.getElementById(id);
    if (!canvas || typeof Chart === "undefined") return null;
    config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: false,
                                     interaction: { mode: "nearest", intersect: true } }, config.options || {});
    config.options.plugins = Object.assign({ tooltip: { enabled: false, external: htmlTooltip(lines) } }, config.options.plugins || {});
    canvas.addEventListener("mouseleave", () => { tip.hidden = true; });
    return (api.charts[id.replace(/-chart$/, "")] = new Chart(canvas, config));
  }
  // an axis with its title; large counts tick as 300M, not 300,000,000
  const axis = (text, extra = {}) => Object.assign({ title: { display: true, text },
    ticks: { callback: (v) => Math.abs(v) >= 1e4 ? human(v) : v } }, extra);

  function reportCharts() {
    const kinds = DATA.by_kind;
    chart("types-chart", {
      type: "bar",
      data: { labels: kinds.map((k) => k.type), datasets: [
        { label: "% mult-adds", data: kinds.map((k) => 100 * k.madds_share), backgroundColor: PALETTE[0] },
        { label: "% params", data: kinds.map((k) => 100 * k.params_share), backgroundColor: PALETTE[1] }] },
      options: { indexAxis: "y", scales: { x: axis("% of the network") } },
    }, (p) => {
      const k = kinds[p.dataIndex], f = p.datasetIndex ? "params" : "madds";
      return [[k.type], [`${f === "madds" ? "mult-adds" : "params"}: ${exact(k[f])} (${(100 * k[f + "_share"]).toFixed(2)}%)`, f, k[f]]];
    });
    const mem = EXTRA.memory;
    if (mem && mem.file) {
      const orders = [["file", "file order"], ["best", "best order"]].filter(([k]) => mem[k]);
      const n = mem.file.steps.length;
      chart("memory-chart", {
        type: "line",
        data: { labels: Array.from({ length: n }, (_, i) => String(i + 1)), datasets: orders.map(([k, label], j) => ({
          label: `${label} (peak ${exact(mem[k].peak)} B)`, data: mem[k].steps.map((s) => Number(s.bytes)),
          borderColor: PALETTE[j], backgroundColor: PALETTE[j], stepped: "middle", borderWidth: 1.5,
          pointRadius: mem[k].steps.map((_, i) => i === mem[k].peak_step ? 6 : 1.5),
          pointBackgroundColor: mem[k].steps.map((_, i) => i === mem[k].peak_step ? "#C44E52" : PALETTE[j]) })) },
        options: { interaction: { mode: "index", intersect: false },
                   scales: { x: axis("step of the schedule"), y: axis("live activation bytes", { beginAtZero: true }) } },
      }, (p) => {
        const [k, label] = orders[p.datasetIndex], s = mem[k].steps[p.dataIndex];
        return [[`${label}, step ${p.dataIndex + 1}: ${s.layers.join(" + ")}`], [`live ${exact(s.bytes)} B (${human(s.bytes)}B)`, "bytes", s.bytes],
                ...s.alive.map((t) => [`${t} ${shape(mem.tensors[t].shape)}: ${exact(mem.tensors[t].bytes)} B`])];
      });
    }
    if (DATA.device) {
      const L = DATA.layers;
      chart("latency-chart", {
        type: "bar",
        data: { labels: L.map((l) => l.name), datasets: ["compute", "memory"].map((bound, j) => ({
          label: `${bound}-bound`, grouped: false, backgroundColor: PALETTE[j],
          data: L.map((l) => l.bound === bound ? l.latency_ms : null) })) },
        options: { scales: { x: { ticks: { display: L.length <= 80 } }, y: axis("ms") } },
      }, (p) => {
        const l = L[p.dataIndex];
        return [[l.name], [`${l.latency_ms} ms, ${l.bound}-bound`, "latency_ms", l.latency_ms], [`${exact(l.madds)} mult-adds`, "madds", l.madds]];
      });
    }
  }

  function sweepChart() {
    const rows = DATA.rows, q = EXTRA.quantities, top1 = EXTRA.top1;
    const label = new Map(q.map(([f, l, u]) => [f, u ? `${l} (${u})` : l]));
    const value = (i, f) => f === "top1" ? (top1 && top1[i] ? top1[i].top1 : null) : rows[i][f];
    const [sx, sy, sby, slog] = ["sweep-x", "sweep-y", "sweep-by", "sweep-logx"].map((id) => document.getElementById(id));
    for (const [f] of q) { sx.append(el("option", { value: f }, label.get(f))); sy.append(el("option", { value: f }, label.get(f))); }
    const names = { alpha: "α", rho: "ρ", resolution: "resolution", depth: "depth" };
    for (const g of EXTRA.groups) sby.append(el("option", { value: g }, names[g] || g));
    const fields = q.map(([f]) => f);
    sx.value = fields[0];
    sy.value = fields.includes("top1") ? "top1" : fields.find((f) => f === "params") || fields[1];
    slog.checked = EXTRA.log.includes(sx.value);
    const keyText = (g, v) => g === "resolution" ? shape(v) : `${names[g] || g} = ${v}`;
    const config = () => {
      const x = sx.value, y = sy.value, by = sby.value, groups = new Map();
      rows.forEach((r, i) => {
        const vx = value(i, x), vy = value(i, y);
        if (vx === null || vy === null || vx === undefined || vy === undefined) return;
        const key = JSON.stringify(r[by]);
        if (!groups.has(key)) groups.set(key, { label: keyText(by, r[by]), points: [] });
        groups.get(key).points.push({ x: Number(vx), y: Number(vy), i });
      });
      const datasets = [...groups.values()].map((g, j) => ({
        label: g.label, data: g.points.sort((a, b) => a.x - b.x), showLine: true, borderWidth: 1.5, pointRadius: 3,
        pointHoverRadius: 6, borderColor: PALETTE[j % PALETTE.length], backgroundColor: PALETTE[j % PALETTE.length] }));
      const published = [];
      if (top1) rows.forEach((r, i) => {
        if (top1[i] && top1[i].method === "published" && value(i, x) !== null && value(i, y) !== null)
          published.push({ x: Number(value(i, x)), y: Number(value(i, y)), i });
      });
      if (published.length) datasets.push({ label: "published (TF-slim)", data: published, pointRadius: 7, pointHoverRadius: 9,
        pointStyle: "circle", borderColor: "#000", backgroundColor: "rgba(0,0,0,0)", borderWidth: 1.2, showLine: false });
      return { datasets, scales: { x: axis(label.get(x), { type: slog.checked ? "logarithmic" : "linear" }), y: axis(label.get(y)) } };
    };
    const c0 = config();
    const c = chart("sweep-chart", { type: "scatter", data: { datasets: c0.datasets }, options: { scales: c0.scales } }, (p) => {
      const i = p.raw.i, r = rows[i];
      const head = [`α = ${r.alpha}` + ("rho" in r ? ` · ρ = ${r.rho}` : "") + ` · ${shape(r.resolution)}` + ("depth" in r ? ` · depth ${r.depth}` : "")];
      const out = [head];
      for (const [f, l, u] of q) {
        if (f === "top1") {
          const t = top1[i];
          if (t) out.push([`top-1: ${t.top1}% (${t.method}${t.checkpoint ? ": " + t.checkpoint : ""})`, "top1", t.top1]);
        } else out.push([`${l}: ${exact(r[f])}${u ? " " + u : ""}`, f, r[f]]);
      }
      return out;
    });
    const update = () => { const k = config(); c.data.datasets = k.datasets; c.options.scales = k.scales; c.update(); };
    sx.addEventListener("change", () => { slog.checked = EXTRA.log.includes(sx.value); update(); });
    for (const s of [sy, sby, slog]) s.addEventListener("change", update);
  }

  function waterfallChart() {
    const select = document.getElementById("waterfall-metric");
    for (const [f, l] of EXTRA.waterfall) select.append(el("option", { value: f }, l));
    const MAX_BARS = 40;
    const config = () => {
      const f = select.value, t = DATA.totals[f];
      let steps = DATA.layers.filter((r) => Number(r[f].delta) !== 0).map((r) => ({ name: r.b ?? r.a, status: r.status, d: r[f].delta }));
      if (steps.length > MAX_BARS) { // the largest changes, in order; the rest as one bar
        const keep = new Set([...steps].sort((a, b) => Math.abs(Number(b.d)) - Math.abs(Number(a.d))).slice(0, MAX_BARS - 1));
        const rest = steps.filter((s) => !keep.has(s));
        steps = steps.filter((s) => keep.has(s));
        steps.push({ name: `${rest.length} other layers`, status: "changed", d: rest.reduce((s, r) => s + Number(r.d), 0) });
      }
      let level = Number(t.a);
      const bars = [{ name: "A total", y: [0, level], v: t.a }];
      for (const s of steps) { const next = level + Number(s.d); bars.push({ name: s.name, y: [level, next], v: s.d, status: s.status }); level = next; }
      bars.push({ name: "B total", y: [0, Number(t.b)], v: t.b });
      return bars;
    };
    let bars = config();
    const colour = (b) => b.status === undefined ? "#8C8C8C" : Number(b.v) > 0 ? "#C44E52" : "#55A868";
    const c = chart("waterfall-chart", {
      type: "bar",
      data: { labels: bars.map((b) => b.name), datasets: [{ label: "", data: bars.map((b) => b.y), backgroundColor: bars.map(colour) }] },
      options: { plugins: { legend: { display: false } }, scales: { x: { ticks: { autoSkip: false, maxRotation: 60 } } } },
    }, (p) => { const b = bars[p.dataIndex]; return [[b.name + (b.status ? ` (${b.status})` : "")], [`${b.status ? "Δ " : ""}${exact(b.v)}`, select.value, b.v]]; });
    select.addEventListener("change", () => {
      bars = config();
      c.data.labels = bars.map((b) => b.name);
      c.data.datasets[0].data = bars.map((b) => b.y);
      c.data.datasets[0].backgroundColor = bars.map(colour);
      c.update();
    });
  }

  function compareChart() {
    const P = DATA.profiles;
    const parts = [...new Set(P.flatMap((p) => Object.keys(p.components)))];
    chart("compare-chart", {
      type: "bar",
      data: { labels: P.map((p) => `${p.profile} (${p.unit})`), datasets: parts.map((c, j) => ({
        label: c, data: P.map((p) => Number(p.components[c] ?? 0)), backgroundColor: PALETTE[j % PALETTE.length] })) },
      options: { indexAxis: "y", scales: { x: { stacked: true, title: { display: true, text: "count" } }, y: { stacked: true } } },
    }, (p) => {
      const r = P[p.dataIndex], c = parts[p.datasetIndex];
      return [[`${r.profile}: ${r.formula}`], [`${c}: ${exact(r.components[c] ?? 0)}`, c, r.components[c] ?? 0], [`total ${exact(r.total)} ${r.unit}`, "total", r.total]];
    });
  }

  // --- each page ---------------------------------------------------------------------------------
  $$("table.sortable").forEach(initTable);
  const page = document.body.dataset.page;
  if (page === "report") {
    graphAt("report", DATA.layers, EXTRA.graph, { table: "layers", attr: "layer" });
    reportCharts();
  } else if (page === "sweep") {
    sweepChart();
  } else if (page === "diff") {
    graphAt("a", EXTRA.a.layers, EXTRA.a, { table: "changes", attr: "a" });
    graphAt("b", EXTRA.b.layers, EXTRA.b, { table: "changes", attr: "b" });
    waterfallChart();
  } else if (page === "compare") {
    compareChart();
  } else if (page === "verify") {
    graphAt("graph", EXTRA.graph.layers, EXTRA.graph, null);
  } else if (page === "check") {
    for (const d of $$("details[data-entry]")) {
      d.addEventListener("toggle", () => {
        const i = Number(d.dataset.entry), spec = EXTRA.entries[i];
        if (d.open && spec && !api.graphs["entry-" + i]) graphAt("entry-" + i, spec.layers, spec, { table: `layers-${i + 1}`, attr: "layer" });
      });
    }
  }
  document.body.dataset.ready = "true"; // what the browser tests wait for
})();
