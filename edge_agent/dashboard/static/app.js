// edge-agent dashboard page. Reads only the server's views (/events SSE, /api/device/<id>);
// the server subscribes to the documented MQTT channels and validates every payload.
"use strict";
(function () {
  const $ = (sel, root) => (root || document).querySelector(sel);
  const cards = new Map();      // device id -> {el, json}
  const siteCharts = new Map(); // site -> Chart
  const cameraCharts = new Map();
  let selected = null, detailTimer = null, lastHeader = null;
  const fmt = (v, unit, digits) => v === null || v === undefined ? "–"
    : (typeof v === "number" ? v.toFixed(digits === undefined ? 0 : digits) : v) + (unit || "");
  const esc = s => String(s).replace(/[&<>"']/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;","'":"&#39;"}[c]));
  const charts = () => typeof window.Chart === "function";
  const PALETTE = ["#4c9aff", "#2fbf71", "#e0a100", "#e5484d", "#b37feb", "#36cfc9", "#ff85c0", "#d3adf7"];
  const colour = (set, i) => Object.assign(set, { borderColor: PALETTE[i % PALETTE.length],
    backgroundColor: PALETTE[i % PALETTE.length], borderWidth: 1.5 });

  function setBadge(el, cls, text, title) {
    el.className = "badge " + cls; el.textContent = text; el.title = title || "";
  }

  function brokerBadge(b) {
    const el = $("#broker");
    if (b.state === "connected") { setBadge(el, "ok", "broker: connected", b.detail); return; }
    const secs = Math.round(Date.now() / 1000 - b.since);
    const what = { unreachable: "broker unreachable", refused: "credentials refused",
                   lost: "broker connection lost", connecting: "broker: connecting" }[b.state] || b.state;
    setBadge(el, b.state === "connecting" ? "warn" : "err",
      `${what} — retrying (attempt ${b.attempts}, back-off ≤ ${b.retry_max_s}s, ${secs}s)`, b.detail);
  }

  function statusBadge(d) {
    if (d.status === "online" && !d.stale) return `<span class="badge ok status">online</span>`;
    if (d.status === "online") return `<span class="badge warn status">stale</span>`;
    return `<span class="badge err status">${esc(d.status)}</span>`;
  }

  function cardHtml(d) {
    const err = d.errors ? `<span class="badge err errors" title="${esc(d.last_error)}">${d.errors} bad</span>` : "";
    const cams = Object.entries(d.cameras).map(([c, v]) =>
      `<dt>${esc(c)}</dt><dd class="val" data-camera="${esc(c)}">${v.people} ppl · ${fmt(v.fps, " fps", 1)}</dd>`).join("");
    return `<div class="top"><span class="id">${esc(d.id)}</span>${err}${statusBadge(d)}</div>
      <dl class="kv"><dt>site</dt><dd>${esc(d.site)}</dd>
      <dt>people</dt><dd class="val people">${d.people}</dd>
      <dt>power</dt><dd class="val power">${fmt(d.power_mode)} · ${fmt(d.power_w, " W", 1)}</dd>
      <dt>temp · fps</dt><dd class="val temp">${fmt(d.max_temp_c, " °C", 1)} · ${fmt(d.fps, "", 1)}</dd>
      <dt>plan util</dt><dd class="val util">${d.utilisation === null ? "–" : Math.round(d.utilisation * 100) + " %"}</dd>
      ${cams}</dl>${d.stale ? `<div class="stale-note">stale: last heard ${fmt(d.age_s, " s ago")}</div>` : ""}`;
  }

  let query = "";
  function filterMatch(d) {
    return !query || d.id.toLowerCase().includes(query) || d.site.toLowerCase().includes(query);
  }

  function cardAttrs(d) {
    return `class="card${d.stale ? " stale" : ""}${d.id === selected ? " selected" : ""}"` +
      ` data-device="${esc(d.id)}" data-status="${esc(d.status)}" data-stale="${d.stale}"` +
      (filterMatch(d) ? "" : " hidden");
  }

  function upsertCards(list) {
    // new cards are parsed in one batch, content included: 500 separate insertions (or
    // innerHTML assignments) cost a loaded browser about a second
    const fresh = list.filter(d => !cards.has(d.id));
    if (fresh.length) {
      const box = $("#devices");
      box.insertAdjacentHTML("beforeend", fresh.map(d => `<div ${cardAttrs(d)}>${cardHtml(d)}</div>`).join(""));
      const els = box.querySelectorAll(".card");
      for (let i = 0; i < fresh.length; i++) {
        const el = els[els.length - fresh.length + i];
        cards.set(fresh[i].id, { el, json: JSON.stringify(fresh[i]), data: fresh[i] });
      }
    }
    const added = new Set(fresh.map(d => d.id));
    for (const d of list) {
      if (added.has(d.id)) continue;
      const entry = cards.get(d.id), json = JSON.stringify(d);
      entry.data = d;
      if (entry.json !== json) {
        entry.json = json; entry.el.innerHTML = cardHtml(d);
        entry.el.classList.toggle("stale", d.stale);
        entry.el.dataset.status = d.status; entry.el.dataset.stale = String(d.stale);
      }
      entry.el.hidden = !filterMatch(d);
    }
  }

  function renderSites(sites) {
    const box = $("#sites");
    for (const [name, s] of Object.entries(sites)) {
      let el = box.querySelector(`[data-site="${CSS.escape(name)}"]`);
      if (!el) {
        el = document.createElement("div"); el.className = "site"; el.dataset.site = name;
        el.innerHTML = `<h2>${esc(name)}</h2><div><span class="big people"></span> people</div>
          <div class="muted line"></div><div class="muted devs"></div><div class="site-chart"><canvas></canvas></div>`;
        box.appendChild(el);
        if (charts()) siteCharts.set(name, new Chart(el.querySelector("canvas"), lineChart([colour({label: "people", data: []}, 0)], false)));
      }
      el.querySelector(".people").textContent = s.people;
      el.querySelector(".line").textContent = `in ${s.in} · out ${s.out} · ${s.occupied_zones}/${s.zones} zones occupied`;
      el.querySelector(".devs").innerHTML = `${s.online}/${s.devices} online · ${s.stale} stale` +
        (s.errors ? ` · <span class="badge err">${s.errors} bad payloads</span>` : "");
      const chart = siteCharts.get(name);
      if (chart) { chart.data.datasets[0].data = s.people_history.map(([x, y]) => ({x, y})); chart.update("none"); }
    }
  }

  function lineChart(datasets, twoAxes) {
    const scales = { x: { type: "linear", ticks: { color: "#8b96a5", maxTicksLimit: 5,
        callback: v => new Date(v * 1000).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"}) } },
      y: { beginAtZero: true, ticks: { color: "#8b96a5", precision: 0 } } };
    if (twoAxes) scales.y1 = { position: "right", min: 0, max: 100, ticks: { color: "#8b96a5" }, grid: { drawOnChartArea: false } };
    return { type: "line", data: { datasets }, options: { animation: false, maintainAspectRatio: false,
      parsing: true, normalized: true, elements: { point: { radius: 0 } }, scales,
      plugins: { legend: { display: twoAxes, labels: { color: "#e3e8ef", boxWidth: 10 } } } } };
  }

  const timing = {};
  function apply(msg) {
    if (timing.firstMessageMs === undefined) timing.firstMessageMs = performance.now();
    lastHeader = msg;
    brokerBadge(msg.broker);
    if (msg.full) { for (const e of cards.values()) e.el.remove(); cards.clear(); }
    upsertCards(msg.devices);
    renderSites(msg.sites);
    let online = 0, stale = 0, errors = 0;
    for (const e of cards.values()) { online += e.data.status === "online"; stale += e.data.stale; errors += e.data.errors; }
    $("#counts").textContent = `${cards.size} devices · ${online} online · ${stale} stale · ${errors} bad payloads`;
    const notice = $("#notice");
    const text = !msg.charts ? msg.charts_hint : (msg.ignored ? `${msg.ignored} names ignored past the caps` : "");
    notice.hidden = !text; notice.textContent = text;
    if (selected === null && cards.size) {
      selected = cards.keys().next().value;  // rendered once the cards are on screen
      setTimeout(() => select(selected), 0);
    }
    if (timing.firstRenderMs === undefined) timing.firstRenderMs = performance.now();
  }

  function select(id) {
    selected = id;
    for (const [k, e] of cards) e.el.classList.toggle("selected", k === id);
    for (const c of cameraCharts.values()) c.destroy();
    cameraCharts.clear();
    $("#detail").innerHTML = "";
    refreshDetail();
  }

  function zoneRows(cam, c) {
    return Object.entries(c.zones).map(([z, v]) =>
      `<tr data-zone="${esc(cam)}/${esc(z)}"><td>${esc(z)}${v.restored ? " <span class=\"badge warn\">restored</span>" : ""}</td>
       <td class="people">${fmt(v.people)}</td><td class="active">${fmt(v.active)}</td>
       <td class="coverage">${v.coverage === null ? "–" : (v.coverage * 100).toFixed(1) + " %"}</td>
       <td class="poses">${Object.entries(v.poses || {}).filter(([, n]) => n > 0).map(([k, n]) => `${esc(k)} ${n}`).join(" · ") || "–"}</td></tr>`).join("");
  }

  function lineRows(cam, c) {
    return Object.entries(c.lines).map(([l, v]) =>
      `<tr data-line="${esc(cam)}/${esc(l)}"><td>${esc(l)}</td><td class="in">${v.in}</td><td class="out">${v.out}</td></tr>`).join("");
  }

  function drawTracks(canvas, c) {
    const w = c.frame_width || 16, h = c.frame_height || 9;
    canvas.width = 480; canvas.height = Math.round(480 * h / w);
    const g = canvas.getContext("2d"), s = canvas.width / w;
    g.fillStyle = "#0b0e12"; g.fillRect(0, 0, canvas.width, canvas.height);
    g.font = "12px system-ui"; g.lineWidth = 2;
    for (const t of c.tracks) {
      const [x1, y1, x2, y2] = t.box.map(v => v * s);
      g.strokeStyle = t.state === "lost" ? "#8b96a5" : (t.active ? "#4c9aff" : "#2fbf71");
      g.strokeRect(x1, y1, x2 - x1, y2 - y1);
      g.fillStyle = g.strokeStyle; g.fillText("#" + t.track_id, x1 + 2, Math.max(12, y1 - 3));
    }
    canvas.dataset.tracks = String(c.tracks.length);
  }

  function renderDetail(d) {
    const box = $("#detail");
    if (!box.querySelector("h2")) box.innerHTML = `<h2></h2><div class="summary"></div><div class="cams"></div>`;
    box.dataset.device = d.id;
    box.querySelector("h2").innerHTML = `${esc(d.id)} ${statusBadge(d)}` +
      (d.errors ? ` <span class="badge err errors">${d.errors} bad payloads</span>` : "");
    const temps = Object.entries(d.temps_c).map(([k, v]) => `${esc(k)} ${fmt(v, "°C", 1)}`).join(" · ");
    const util = Object.entries(d.utilisation_by_resource).map(([k, v]) => `${esc(k)} ${Math.round(v * 100)}%`).join(" · ");
    box.querySelector(".summary").innerHTML = `<dl class="kv">
      <dt>site</dt><dd>${esc(d.site)}</dd><dt>session · version</dt><dd>${fmt(d.session)} · ${fmt(d.version)}</dd>
      <dt>power mode</dt><dd>${fmt(d.power_mode)} · ${fmt(d.power_w, " W", 1)}</dd>
      <dt>plan</dt><dd>${util || "–"}${d.plan_reason ? " (" + esc(d.plan_reason) + ")" : ""}</dd>
      <dt>temperatures</dt><dd>${temps || "–"}</dd><dt>outbox</dt><dd>${fmt(d.outbox_depth)} waiting · ${fmt(d.outbox_dropped)} dropped</dd>
      </dl>${d.stale ? `<p class="stale-note">Values are stale (last heard ${fmt(d.age_s, " s ago")}).</p>` : ""}
      ${d.last_error ? `<p class="err">last bad payload: ${esc(d.last_error)}</p>` : ""}`;
    const cams = box.querySelector(".cams");
    for (const [cam, c] of Object.entries(d.cameras)) {
      let el = cams.querySelector(`[data-camera="${CSS.escape(cam)}"]`);
      if (!el) {
        el = document.createElement("div"); el.dataset.camera = cam;
        el.innerHTML = `<h3>camera ${esc(cam)} <span class="cam-state"></span></h3>
          <table class="zones"><thead><tr><th>zone</th><th>people</th><th>moving</th><th>coverage</th><th>poses</th></tr></thead><tbody></tbody></table>
          <table class="lines"><thead><tr><th>line</th><th>in</th><th>out</th></tr></thead><tbody></tbody></table>
          <div class="chart-box"><canvas class="history"></canvas></div>
          <h3>live tracks</h3><canvas class="tracks"></canvas>`;
        cams.appendChild(el);
      }
      el.querySelector(".cam-state").textContent = `${fmt(c.state)} · ${fmt(c.fps, " fps", 1)} · ${fmt(c.frames_dropped)} dropped`;
      el.querySelector(".zones tbody").innerHTML = zoneRows(cam, c);
      el.querySelector(".lines tbody").innerHTML = lineRows(cam, c);
      el.querySelector(".lines").hidden = !Object.keys(c.lines).length;
      drawTracks(el.querySelector("canvas.tracks"), c);
      if (charts()) {
        const sets = [];
        Object.entries(c.zones).forEach(([z, v], i) => {
          sets.push(colour({label: z + " people", data: v.people_history.map(([x, y]) => ({x, y})), yAxisID: "y"}, i));
          sets.push(colour({label: z + " coverage %", data: v.coverage_history.map(([x, y]) => ({x, y: y * 100})), yAxisID: "y1", borderDash: [4, 3]}, i));
        });
        const key = d.id + "/" + cam;
        let chart = cameraCharts.get(key);
        if (!chart) { chart = new Chart(el.querySelector("canvas.history"), lineChart(sets, true)); cameraCharts.set(key, chart); }
        else { chart.data.datasets = sets; chart.update("none"); }
      }
    }
  }

  function refreshDetail() {
    clearTimeout(detailTimer);
    if (selected === null) return;
    const id = selected;
    fetch("/api/device/" + encodeURIComponent(id)).then(r => r.ok ? r.json() : null).then(d => {
      if (d && id === selected) renderDetail(d);
    }).catch(() => {}).finally(() => { detailTimer = setTimeout(refreshDetail, 1000); });
  }

  $("#devices").addEventListener("click", ev => {
    const card = ev.target.closest(".card");
    if (card) select(card.dataset.device);
  });
  $("#filter").addEventListener("input", () => {
    query = $("#filter").value.trim().toLowerCase();
    for (const e of cards.values()) e.el.hidden = !filterMatch(e.data);
    timing.filterAppliedMs = performance.now();
  });

  const source = new EventSource("/events");
  source.onopen = () => setBadge($("#link"), "ok", "page: live");
  source.onerror = () => setBadge($("#link"), "err", "dashboard server unreachable — retrying");
  source.onmessage = ev => {
    try { apply(JSON.parse(ev.data)); }
    catch (e) { setBadge($("#link"), "err", "bad update from server: " + e); }
  };
  window.edgeDashboard = { cards, timing, last: () => lastHeader };
})();
