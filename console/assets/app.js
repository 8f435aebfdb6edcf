// actord console: polls the JSON API (docs/console.md) and renders the
// consumers, dead-letter and topics views. No framework and no build
// step: the file is served as written, embedded in the binary.
"use strict";

const state = {
  status: null,
  history: {},          // "group/topic" -> points
  view: "consumers",
  dlqTopic: "",
  selected: new Set(),  // "partition/offset" of the letters ticked
  token: sessionStorage.getItem("actord-token") || "",
  adminOK: false,
  lastOK: 0,
};

const $ = (sel) => document.querySelector(sel);

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined) continue;
    e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return e;
}

async function api(path, opts) {
  const ctl = new AbortController();
  // A replay may take up to a minute on the server; a read, 10 s.
  const timer = setTimeout(() => ctl.abort(), opts && opts.method === "POST" ? 70000 : 10000);
  try {
    const headers = Object.assign({}, (opts && opts.headers) || {});
    if (state.token) headers["Authorization"] = "Bearer " + state.token;
    const res = await fetch("api/" + path, Object.assign({}, opts, { headers, signal: ctl.signal }));
    const body = await res.json().catch(() => ({ error: res.statusText }));
    if (!res.ok) throw Object.assign(new Error(body.error || res.statusText), { status: res.status });
    return body;
  } finally {
    clearTimeout(timer);
  }
}

function post(path, body) {
  return api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}

function message(text, isError) {
  const m = $("#message");
  m.textContent = text;
  m.className = isError ? "error" : "";
}

const fmt = new Intl.NumberFormat("en");
function num(n) { return n < 0 ? "unknown" : fmt.format(n); }
function rate(x) { return x >= 100 ? fmt.format(Math.round(x)) : x.toFixed(x >= 10 ? 1 : 2); }
function ms(x) { return x < 0 ? "–" : x >= 1000 ? (x / 1000).toFixed(2) + " s" : x.toFixed(x >= 10 ? 0 : 1) + " ms"; }
function age(msv) {
  if (msv < 0) return "unknown";
  if (msv === 0) return "0 s";
  if (msv < 1000) return msv + " ms";
  const s = msv / 1000;
  if (s < 120) return s.toFixed(1) + " s";
  if (s < 7200) return (s / 60).toFixed(1) + " min";
  return (s / 3600).toFixed(1) + " h";
}
const stateSymbol = { running: "▶", backpressure: "⏸", paused: "⏸", draining: "⏹", stalled: "⚠", failing: "⚠", "circuit open": "⛔" };

// chart is a small line chart of one or two series over the history.
function chart(id, title, points, pick, pick2, unit) {
  const w = 300, h = 60;
  const xs = points.map((p) => p.t);
  const a = points.map(pick), b = pick2 ? points.map(pick2) : [];
  const top = Math.max(1e-9, ...a.filter((v) => v >= 0), ...b.filter((v) => v >= 0));
  const t0 = xs.length ? xs[0] : 0, t1 = xs.length ? xs[xs.length - 1] : 1;
  const line = (vs) => {
    const ps = vs.map((v, i) => v < 0 ? null :
      [(xs[i] - t0) / Math.max(1, t1 - t0) * w, h - 2 - v / top * (h - 4)]).filter(Boolean);
    // A single point is drawn as a short dash, so that it shows.
    if (ps.length === 1) ps.push([ps[0][0] < 4 ? ps[0][0] + 4 : ps[0][0] - 4, ps[0][1]]);
    return ps.map(([x, y]) => x.toFixed(1) + "," + y.toFixed(1)).join(" ");
  };
  const last = a.length ? a[a.length - 1] : -1;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `${title}: last ${last < 0 ? "none" : last} ${unit}`);
  for (const [vs, cls] of [[a, ""], [b, "second"]]) {
    if (!vs.length) continue;
    const pl = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    pl.setAttribute("points", line(vs));
    if (cls) pl.setAttribute("class", cls);
    svg.append(pl);
  }
  // area is what the first series adds up to over the window (records,
  // for a rate per second): the tests and a reader can tell it grew.
  let area = 0;
  points.forEach((p, i) => { if (a[i] > 0) area += a[i] * p.seconds; });
  const span = xs.length > 1 ? Math.round((t1 - t0) / 60000 * 10) / 10 + " min" : "";
  return el("figure", { class: "chart", "data-testid": id, "data-points": points.length, "data-last": last, "data-area": area.toFixed(3) },
    el("figcaption", {}, el("span", {}, title), el("span", {}, `max ${rate(top)} ${unit}`, span ? " · " + span : "")), svg);
}

function renderConsumers() {
  const root = $("#view-consumers");
  const st = state.status;
  if (!st) return;
  const out = [];
  if (!st.groups.length) out.push(el("p", {}, "This process runs no consumer group."));
  for (const g of st.groups) {
    const gstate = g.draining ? "draining" : g.joined ? "joined" : "joining";
    const sec = el("section", { class: "group", "data-testid": "group", "data-group": g.name },
      el("h2", {}, "group ", g.name),
      el("p", {}, `${gstate}`, g.member ? ` · member ${g.member}` : ""));
    for (const c of g.consumers) sec.append(renderConsumer(c));
    out.push(sec);
  }
  root.replaceChildren(...out);
}

function renderConsumer(c) {
  const key = c.group + "/" + c.topic;
  const pts = state.history[key] || [];
  const r = c.recent;
  const cstate = c.paused ? "paused" : c.circuit === "open" ? "circuit open" : "running";
  const head = el("header", {},
    el("h3", {}, c.topic, el("span", { class: "hide-narrow" }, " consumed by ", c.group)),
    el("span", { class: "state state-" + cstate.replace(" ", "-"), "data-testid": "consumer-state" }, stateSymbol[cstate] + " " + cstate),
    state.adminOK ? el("button", { "data-testid": c.paused ? "resume" : "pause",
      onclick: () => pauseConsumer(c, !c.paused) }, c.paused ? "resume" : "pause") : null);
  const facts = el("div", { class: "facts", "data-testid": "counts" },
    el("span", {}, "handled ", el("b", { "data-testid": "handled" }, num(c.counts.handled))),
    el("span", {}, "received ", el("b", {}, num(c.counts.received))),
    el("span", {}, "failed attempts ", el("b", {}, num(c.counts.failed))),
    el("span", {}, "retries ", el("b", { "data-testid": "retried" }, num(c.counts.retried))),
    el("span", {}, c.dead_letter_topic ? "dead-lettered " : "skipped ", el("b", { "data-testid": "dead-lettered" }, num(c.counts.dead_lettered)),
      c.dead_letter_topic ? ` to ${c.dead_letter_topic}` : " (dead-lettering off)",
      c.event_dead_letter_topics ? `; event handlers dead-letter to ${c.event_dead_letter_topics.join(", ")}` : ""),
    el("span", {}, "ordering ", el("b", {}, c.ordering)),
    el("span", {}, "circuit ", el("b", { "data-testid": "circuit" }, c.circuit)),
    el("span", {}, `last ${Math.round(r.seconds)} s: `, el("b", {}, rate(r.handled_per_second), "/s"),
      ", p50 ", el("b", { "data-testid": "p50" }, ms(r.p50_ms)), ", p99 ", el("b", { "data-testid": "p99" }, ms(r.p99_ms))));
  const charts = el("div", { class: "charts" },
    chart("chart-throughput", "handled per second", pts, (p) => p.handled_per_second, null, "/s"),
    chart("chart-latency", "latency p50 · p99 (dashed)", pts, (p) => p.p50_ms, (p) => p.p99_ms, "ms"),
    chart("chart-lag", "lag (records)", pts, (p) => p.lag, null, ""),
    chart("chart-failures", "retries · dead letters (dashed) per second", pts, (p) => p.retried_per_second, (p) => p.dead_lettered_per_second, "/s"));
  const rows = c.partitions.map((p) => el("tr", { "data-testid": "partition-row", "data-group": c.group, "data-topic": c.topic, "data-partition": p.partition },
    el("td", { class: "num" }, p.partition),
    el("td", { class: "state state-" + p.state.replace(" ", "-"), "data-testid": "state" }, (stateSymbol[p.state] || "") + " " + p.state,
      p.error ? el("div", { class: "error", "data-testid": "partition-error" }, el("small", {}, p.error)) : null),
    el("td", { class: "num", "data-testid": "committed" }, p.committed < 0 ? "none" : num(p.committed)),
    el("td", { class: "num", "data-testid": "end" }, num(p.end)),
    el("td", { class: "num", "data-testid": "lag" }, num(p.lag)),
    el("td", { class: "num", "data-testid": "lag-time" }, age(p.lag_ms)),
    el("td", { class: "num", "data-testid": "in-flight" }, num(p.in_flight))));
  const table = rows.length ? el("div", { class: "scroll" }, el("table", {},
    el("thead", {}, el("tr", {}, el("th", { class: "num" }, "partition"), el("th", {}, "state"), el("th", { class: "num" }, "committed"),
      el("th", { class: "num" }, "end"), el("th", { class: "num" }, "lag"), el("th", { class: "num" }, "lag (time)"), el("th", { class: "num" }, "in flight"))),
    el("tbody", {}, rows))) : el("p", {}, "No partition of ", c.topic, " is assigned to this process.");
  return el("article", { class: "consumer", "data-testid": "consumer", "data-group": c.group, "data-topic": c.topic }, head, facts, charts, table);
}

async function pauseConsumer(c, pause) {
  try {
    await post("consumers/" + (pause ? "pause" : "resume"), { group: c.group, topic: c.topic });
    message(`${c.group}/${c.topic} ${pause ? "paused" : "resumed"}`);
    await refresh();
  } catch (e) {
    message(e.message, true);
  }
}

// rendered remembers what each view last drew, so that a poll that
// brings nothing new leaves the page (and a half-typed input) alone.
const rendered = {};
function unchanged(name, doc) {
  const key = JSON.stringify(doc) + "|" + state.adminOK + "|" + state.dlqTopic;
  if (rendered[name] === key) return true;
  rendered[name] = key;
  return false;
}

async function renderDeadLetterTopics() {
  const list = await api("deadletters");
  if (unchanged("dlq-topics", list)) return;
  if (!state.dlqTopic && list.length) state.dlqTopic = (list.find((d) => d.records > 0) || list[0]).topic;
  const box = el("div", { class: "dlq-list" });
  if (!list.length) box.append(el("p", {}, "No consumer of this process dead-letters (all have dead-lettering off)."));
  for (const d of list) {
    box.append(el("button", { "aria-pressed": String(d.topic === state.dlqTopic), "data-testid": "dlq-topic", "data-topic": d.topic,
      onclick: () => { state.dlqTopic = d.topic; state.selected.clear(); refreshView(); } },
      `${d.topic}: ${d.exists ? num(d.records) + (d.records === 1 ? " record, " : " records, ") + num(d.replayed) + " replayed" : "no dead letter yet"}`));
  }
  $("#dlq-topics").replaceChildren(box);
}

async function renderLetters() {
  const target = $("#dlq-letters");
  if (!state.dlqTopic) { target.replaceChildren(); return; }
  const doc = await api("deadletters/" + encodeURIComponent(state.dlqTopic));
  if (unchanged("letters", doc)) return;
  const rows = doc.letters.map((l) => {
    const id = l.partition + "/" + l.offset;
    const box = el("input", { type: "checkbox", "aria-label": "select dead letter " + id, "data-testid": "select",
      checked: state.selected.has(id), onchange: (e) => { e.target.checked ? state.selected.add(id) : state.selected.delete(id); } });
    const value = l.value.null ? "(null)" : l.value.text + (l.value.truncated ? " …" : "");
    const key = l.key.null ? "" : " key " + (l.key.hex ? "hex " : "") + l.key.text;
    return el("tr", { "data-testid": "letter-row", "data-partition": l.partition, "data-offset": l.offset },
      state.adminOK ? el("td", { "data-label": "select" }, box) : null,
      el("td", { class: "num", "data-label": "partition/offset" }, id),
      el("td", { "data-label": "from" }, l.source, el("br"), el("small", {}, l.group, l.handler ? " · " + l.handler : "", key),
        el("details", {}, el("summary", {}, "actord.dlq.* headers"),
          el("pre", { "data-testid": "letter-dlq-headers" }, l.dlq_headers.map((h) => h.key + ": " + h.value.text).join("\n")))),
      el("td", { class: "error", "data-testid": "letter-error", "data-label": "error" }, l.invalid ? "not a dead letter: " + l.invalid : l.error,
        l.stub ? el("div", {}, "stub: " + l.stub) : null),
      el("td", { class: "num", "data-label": "attempts" }, l.attempts),
      el("td", { "data-label": "failed at" }, l.failed_at ? new Date(l.failed_at).toLocaleString() : ""),
      el("td", { "data-testid": "letter-value", "data-label": "value" }, el("pre", {}, l.value.decoded ? l.value.decoded : (l.value.hex ? "hex: " : "") + value),
        l.value.decoded ? el("small", {}, "decoded with the consumer's Avro schema · ") : null,
        el("small", {}, `${l.value.bytes} bytes`, l.headers.length ? " · headers: " + l.headers.map((h) => h.key + "=" + h.value.text).join(", ") : "")),
      el("td", { "data-testid": "letter-replayed", "data-label": "replay" }, l.replayed ? "replayed (" + (l.replayed === "committed" ? "by the resumable replay" : "selected, this process") + ")" : "not replayed"));
  });
  const actions = state.adminOK ? el("div", { class: "actions" },
    el("label", {}, "to topic ", el("input", { id: "replay-to", "data-testid": "replay-to", placeholder: "original topic", size: 16 })),
    el("button", { "data-testid": "replay-selected", onclick: () => replay(false) }, "replay selected"),
    el("button", { "data-testid": "replay-all", onclick: () => replay(true) }, "replay all not yet replayed")) :
    el("p", {}, state.status && state.status.admin ? "Unlock actions with the admin token to replay." : "Replay is off (read-only console).");
  const table = doc.letters.length ? el("div", { class: "scroll" }, el("table", { "data-testid": "letters", class: "cards" },
    el("thead", {}, el("tr", {}, state.adminOK ? el("th", {}, "") : null, el("th", { class: "num" }, "partition/offset"), el("th", {}, "from"),
      el("th", {}, "error"), el("th", { class: "num" }, "attempts"), el("th", {}, "failed at"), el("th", {}, "value"), el("th", {}, "replay"))),
    el("tbody", {}, rows))) : el("p", {}, doc.exists ? "The topic is empty." : "Nothing was dead-lettered here yet.");
  const keep = document.activeElement && document.activeElement.id === "replay-to" ? $("#replay-to").value : ($("#replay-to") || {}).value;
  target.replaceChildren(el("h2", {}, doc.topic, `: latest ${doc.letters.length} of ${num(doc.records)}`), actions, table);
  if (keep !== undefined && $("#replay-to")) $("#replay-to").value = keep;
}

async function replay(all) {
  const to = ($("#replay-to") || {}).value || "";
  const body = {};
  if (to) body.to = to;
  if (!all) {
    if (!state.selected.size) { message("Select the dead letters to replay first.", true); return; }
    body.offsets = [...state.selected].map((id) => { const [p, o] = id.split("/"); return { partition: +p, offset: +o }; });
  }
  try {
    const res = await post("deadletters/" + encodeURIComponent(state.dlqTopic) + "/replay", body);
    const where = Object.entries(res.replayed).map(([t, n]) => `${n} to ${t}`).join(", ");
    message(`replayed ${res.total} dead letter${res.total === 1 ? "" : "s"}${where ? ": " + where : ""}`);
    state.selected.clear();
    await refreshView();
  } catch (e) {
    message("replay refused: " + e.message, true);
  }
}

async function renderTopics() {
  const list = await api("topics");
  if (unchanged("topics", list)) return;
  const rows = list.map((t) => el("tr", { "data-testid": "topic-row", "data-topic": t.topic },
    el("td", {}, t.topic, t.internal ? " (internal)" : ""),
    el("td", { class: "num" }, t.partitions.length),
    el("td", { class: "num", "data-testid": "topic-records" }, num(t.records)),
    el("td", { class: "hide-narrow" }, t.error ? el("span", { class: "error" }, t.error) :
      t.partitions.map((p) => `${p.partition}: ${num(p.start)}–${num(p.end)}`).join(" · "))));
  $("#view-topics").replaceChildren(el("div", { class: "scroll" }, el("table", {},
    el("thead", {}, el("tr", {}, el("th", {}, "topic"), el("th", { class: "num" }, "partitions"), el("th", { class: "num" }, "records"),
      el("th", { class: "hide-narrow" }, "offsets (partition: start–end)"))),
    el("tbody", {}, rows))));
}

async function refresh() {
  try {
    state.status = await api("status");
    state.lastOK = Date.now();
    $("#service").textContent = state.status.service;
    const live = $("#live");
    live.className = state.status.error ? "stale" : "";
    live.textContent = (state.status.error ? "cluster error: " + state.status.error : "live") +
      " · snapshot " + new Date(state.status.time).toLocaleTimeString();
    $("#admin").hidden = !state.status.admin;
    $("#readonly").hidden = state.status.admin;
    renderConsumers();
  } catch (e) {
    const live = $("#live");
    live.className = "stale";
    live.textContent = "not updating: " + e.message + (state.lastOK ? " · last update " + new Date(state.lastOK).toLocaleTimeString() : "");
  }
}

async function refreshHistory() {
  try {
    const all = await api("history");
    for (const s of all) state.history[s.group + "/" + s.topic] = s.points;
    if (state.view === "consumers") renderConsumers();
  } catch (e) { /* the status poll reports the outage */ }
}

async function refreshView() {
  try {
    if (state.view === "deadletters") { await renderDeadLetterTopics(); await renderLetters(); }
    if (state.view === "topics") await renderTopics();
  } catch (e) {
    message(e.message, true);
  }
}

function route() {
  let h = location.hash.slice(1);
  if (h.startsWith("token=")) {
    // The quickstart prints the URL with its token; keep it for the tab
    // and take it out of the address bar.
    state.token = decodeURIComponent(h.slice(6));
    sessionStorage.setItem("actord-token", state.token);
    history.replaceState(null, "", location.pathname + location.search);
    h = "";
    checkAdmin();
  }
  state.view = ["consumers", "deadletters", "topics"].includes(h) ? h : "consumers";
  for (const a of document.querySelectorAll("nav a")) {
    a.toggleAttribute("aria-current", a.dataset.view === state.view);
    if (a.dataset.view === state.view) a.setAttribute("aria-current", "page");
  }
  for (const v of ["consumers", "deadletters", "topics"]) $("#view-" + v).hidden = v !== state.view;
  message("");
  refreshView();
}

async function checkAdmin() {
  if (!state.token) { state.adminOK = false; $("#admin-state").textContent = "locked"; return; }
  try {
    await api("admin");
    state.adminOK = true;
    $("#admin-state").textContent = "unlocked";
    $("#admin label").hidden = $("#unlock").hidden = true;
  } catch (e) {
    state.adminOK = false;
    $("#admin-state").textContent = e.status === 401 ? "locked: wrong token" : "locked";
  }
  renderConsumers();
  refreshView();
}

$("#admin").addEventListener("submit", (e) => {
  e.preventDefault();
  state.token = $("#token").value.trim();
  sessionStorage.setItem("actord-token", state.token);
  $("#token").value = "";
  checkAdmin();
});
window.addEventListener("hashchange", route);
route();
refresh().then(checkAdmin);
refreshHistory();
setInterval(refresh, 1000);
setInterval(refreshHistory, 2000);
setInterval(() => { if (state.view !== "consumers") refreshView(); }, 5000);
