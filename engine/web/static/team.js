// The team page's only script: the team's agents, the services and the alerts from /team/events (server-sent
// events: pushed, never polled), and the lead's actions posted to /api/action with the session's CSRF token.
// The engine decides every action (the policy, the agent's state); the page only shows what it answers.
"use strict";
(() => {
  const boot = JSON.parse(document.getElementById("boot").textContent);
  const T = boot.texts, TH = boot.thresholds, names = boot.agents;
  const held = { agent: new Map(), service: new Map() };
  const alerts = new Map();  // id -> alert, as the engine raised it
  let now = 0;
  // what the stream sent, for the browser test: the agents' keys it saw (only the team's may come)
  const seen = (window.teamSeen = new Set());
  const clockFmt = hotline.clock(boot);

  const fill = (text, values) => text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));
  const dur = hotline.dur;
  const pct = (x) => (x === null || x === undefined ? "–" : `${(100 * x).toFixed(1)} %`);
  const label = (k) => T[k] || k;
  const who = (id) => (names[id] ? `${id} (${names[id]})` : id);

  // what the agent does: the ACD's state while not idle, else its campaign session's phase, else its status
  function agentShown(d) {
    if (d.state !== "idle") return d.state;
    if (d.phase && d.phase !== "off") return d.phase;
    return d.status === "available" ? "idle" : d.status;
  }
  // as the engine's monitor decides it (acd/services.py on_call): listening needs a call to listen to
  const onCall = (d) => !!d && (d.state === "on_call" || d.state === "on_hold" || d.device_busy);

  function cell(text, level) {
    const td = document.createElement("td");
    td.textContent = text;
    if (level) {
      td.className = level;
      const sr = document.createElement("span");
      sr.className = "sr";
      sr.textContent = ` (${level === "warn" ? T.at_risk : T.over})`;
      td.appendChild(sr);
    }
    return td;
  }

  // an agent's row is made once (its header holds a button, which keeps focus) and its cells refilled
  const agentRows = new Map();
  function agentRow(id) {
    let tr = agentRows.get(id);
    if (!tr) {
      tr = document.createElement("tr");
      tr.dataset.key = id;
      const th = document.createElement("th");
      th.scope = "row";
      const pick = document.createElement("button");
      pick.type = "button";
      pick.className = "pick";
      pick.textContent = id;
      pick.setAttribute("aria-label", fill(T.select, { agent: who(id) }));
      pick.addEventListener("click", () => { agentSelect.value = id; agentSelect.focus(); enable(); });
      th.appendChild(pick);
      tr.appendChild(th);
      agentRows.set(id, tr);
    }
    const d = held.agent.get(id);
    let cells;
    if (!d) {
      delete tr.dataset.state;
      cells = [cell(names[id] || ""), cell("–"), cell("–"), cell(""), cell("")];
    } else {
      const shown = agentShown(d), inState = now - d.since;  // since 0: a campaign session's agent, not timed
      const late = alerts.has(`pause_over/${id}`) || alerts.has(`wrapup_over/${id}`) ? "alert" : "";
      tr.dataset.state = shown;
      cells = [cell(names[id] || ""), cell(label(shown)), cell(d.since ? dur(inState) : "–", late),
        cell(shown === "paused" ? d.reason : ""), cell(d.call || "")];
    }
    tr.replaceChildren(tr.firstChild, ...cells);
    return tr;
  }

  function serviceRow(key) {
    const d = held.service.get(key);
    const tr = document.createElement("tr");
    tr.dataset.key = key;
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = key;
    const late = alerts.has(`waiting_over/${key}`) ? "alert" : "";
    const sl = alerts.get(`service_level/${key}`);
    tr.append(th, cell(String(d.waiting), late), cell(dur(d.longest_wait), late),
      cell(`${pct(d.service_level)} (≤ ${d.sl_target} s) / ${T.goal} ${pct(TH.sl_goal)}`, sl ? sl.level : ""));
    return tr;
  }

  const byKey = (a, b) => a.localeCompare(b, undefined, { numeric: true });

  function redraw() {
    const ids = [...new Set([...Object.keys(names), ...held.agent.keys()])].sort(byKey);
    const body = document.querySelector("#agents tbody");
    ids.forEach((id, i) => {
      const tr = agentRow(id);
      if (body.children[i] !== tr) body.insertBefore(tr, body.children[i] || null);  // moved only when new
    });
    const services = [...held.service.keys()].sort(byKey);
    document.querySelector("#services tbody").replaceChildren(...services.map(serviceRow));
    enable();
  }

  function alertText(a) {
    const limit = a.kind === "service_level" ? pct(a.limit) : dur(a.limit);
    const values = { agent: who(a.key), service: a.key, case: a.key, reason: a.reason, limit,
                     due: new Date(a.limit * 1000).toLocaleString() };
    return fill(T[`${a.level === "warn" ? "warn" : "alert"}_${a.kind}`] || a.id, values);
  }

  function alertItem(a) {
    const li = document.createElement("li");
    li.dataset.id = a.id;
    li.dataset.level = a.level;
    li.textContent = alertText(a);
    const at = document.createElement("span");
    at.className = "muted";
    at.textContent = ` · ${T.raised_at} ${clockFmt.format(new Date(a.since * 1000))}`;
    li.appendChild(at);
    if (a.kind === "case_overdue") {  // to the case itself, where the lead works it
      const open = document.createElement("a");
      open.href = `/cases/${encodeURIComponent(a.key)}`;
      open.textContent = ` · ${T.open_case}`;
      li.appendChild(open);
    }
    return li;
  }

  // the list is changed item by item, so a screen reader announces the alert raised, not the whole list again
  const alertList = document.getElementById("alerts");
  function placeholder() {
    const none = alertList.querySelector("li.none");
    if (alerts.size && none) none.remove();
    if (!alerts.size && !none) {
      const li = document.createElement("li");
      li.className = "none";
      li.textContent = T.no_alerts;
      alertList.appendChild(li);
    }
  }
  function raise(a) {
    alerts.set(a.id, a);
    const li = alertItem(a), old = alertList.querySelector(`li[data-id="${CSS.escape(a.id)}"]`);
    if (old) old.replaceWith(li);
    else alertList.appendChild(li);
    placeholder();
  }
  function clear(id) {
    alerts.delete(id);
    const old = alertList.querySelector(`li[data-id="${CSS.escape(id)}"]`);
    if (old) old.remove();
    placeholder();
  }

  function tick(msg) {
    now = msg.now;
    document.getElementById("clock").textContent = clockFmt.format(new Date(now * 1000));
  }

  // ---- actions -------------------------------------------------------------------------------------------
  const form = document.getElementById("act");
  const agentSelect = document.getElementById("act-agent");
  const reason = document.getElementById("act-reason");
  const result = document.getElementById("result");
  let csrf = null;

  function enable() {
    const calling = onCall(held.agent.get(agentSelect.value));
    for (const b of form.querySelectorAll("button[data-monitor]")) b.disabled = !calling;
  }
  agentSelect.addEventListener("change", enable);
  form.addEventListener("submit", (e) => e.preventDefault());  // Enter in the reason field does nothing

  function show(ok, text) {
    result.dataset.ok = ok === null ? "" : String(ok);
    result.textContent = ok === null ? text : `${ok ? T.done : T.refused}: ${text}`;
  }

  async function token() {
    if (csrf === null) {
      const me = await fetch("/me", { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!me.ok) throw new Error(`/me ${me.status}`);
      csrf = (await me.json()).csrf;
    }
    return csrf;
  }

  async function act(action) {
    const arg = reason.value.trim();
    if ((action === "force_pause" || action === "force_logout") && !arg) {
      show(false, fill(T.need_reason, { action: T[action] }));
      reason.focus();
      return;
    }
    const body = { action, agent: agentSelect.value, arg: action.startsWith("force_") ? arg : "" };
    show(null, T.sending);
    try {
      const reply = await fetch("/api/action", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": await token() },
        body: JSON.stringify(body),
      });
      const out = await reply.json();
      show(!!out.ok, out.ok ? out.result : out.reason);
    } catch (err) {
      show(false, `${T.failed} (${err.message})`);
    }
  }
  for (const b of form.querySelectorAll("button[data-action]")) {
    b.addEventListener("click", () => act(b.dataset.action));
  }

  // ---- the stream ----------------------------------------------------------------------------------------
  function take(s) {
    if (!held[s.topic]) return;
    held[s.topic].set(s.key, s.data);
    if (s.topic === "agent") seen.add(s.key);
  }

  const link = document.getElementById("link");
  const setLink = (state, text) => { link.dataset.state = state; link.textContent = text; };
  const source = new EventSource(`/team/events?team=${encodeURIComponent(boot.team)}`);
  hotline.onSignedOut(source);  // the session ended: the server ends the stream and says so
  source.onopen = () => setLink("live", T.live);
  source.onerror = () => setLink("lost", T.reconnecting);
  source.addEventListener("snapshot", (e) => {
    const msg = JSON.parse(e.data);
    tick(msg);
    for (const m of Object.values(held)) m.clear();
    msg.states.forEach(take);
    alerts.clear();
    alertList.replaceChildren();
    msg.alerts.forEach(raise);
    placeholder();
    redraw();
    setLink("live", T.live);
  });
  source.addEventListener("change", (e) => {
    const msg = JSON.parse(e.data);
    tick(msg);
    take(msg);
    redraw();
  });
  source.addEventListener("alert", (e) => {
    const msg = JSON.parse(e.data);
    tick(msg);
    if (msg.op === "cleared") clear(msg.alert.id);
    else raise(msg.alert);
    redraw();
  });
  source.addEventListener("tick", (e) => { tick(JSON.parse(e.data)); redraw(); });
  redraw();
})();
