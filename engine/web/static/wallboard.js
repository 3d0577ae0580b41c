// The wallboard's only script: reads the server-sent events of /wallboard/events and redraws the tables.
// A snapshot replaces everything held; a change replaces one state; a tick moves the engine's clock on.
"use strict";
(() => {
  const boot = JSON.parse(document.getElementById("boot").textContent);
  const T = boot.texts, TH = boot.thresholds;
  const held = { service: new Map(), agent: new Map(), campaign: new Map(), agent_day: new Map(),
    abandoned: new Map() };
  let now = 0;
  // each change as shown: wall (s, read off the bus by the server) and shown (ms, this page's DOM updated);
  // the browser test reads the delay from it. Bounded.
  const log = (window.wallboardLog = []);
  const clockFmt = hotline.clock(boot);

  const dur = hotline.dur;
  const pct = (x) => (x === null || x === undefined ? "–" : `${(100 * x).toFixed(1)} %`);
  const label = (k) => T[k] || k;

  function cell(text, level, note) {
    const td = document.createElement("td");
    td.textContent = text;
    if (level) {
      td.className = level;
      const sr = document.createElement("span");
      sr.className = "sr";
      sr.textContent = ` (${note || T.over})`;
      td.appendChild(sr);
    }
    return td;
  }

  function row(key, cells) {
    const tr = document.createElement("tr");
    tr.dataset.key = key;
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = key;
    tr.appendChild(th);
    for (const c of cells) tr.appendChild(c);
    return tr;
  }

  function serviceRow(key, d) {
    const late = d.longest_wait > TH.waiting_over ? "alert" : "";
    let sl = "";
    if (d.service_level !== null && d.service_level !== undefined) {
      if (d.service_level < TH.sl_goal) sl = "alert";
      else if (d.service_level < TH.sl_goal + TH.sl_margin) sl = "warn";
    }
    const tr = row(key, [
      cell(String(d.waiting), late), cell(dur(d.longest_wait), late), cell(String(d.answered)),
      cell(String(d.abandoned)), cell(`${pct(d.service_level)} (≤ ${d.sl_target} s) / ${T.goal} ${pct(TH.sl_goal)}`, sl,
        sl === "warn" ? T.at_risk : T.over),
      cell(d.asa === null || d.asa === undefined ? "–" : dur(d.asa)),
    ]);
    tr.querySelector("td").classList.add("waiting");
    return tr;
  }

  // what the agent does: the ACD's state while not idle, else its campaign session's phase, else its status
  function agentShown(d) {
    if (d.state !== "idle") return d.state;
    if (d.phase && d.phase !== "off") return d.phase;
    return d.status === "available" ? "idle" : d.status;
  }

  function agentRow(key, d) {
    const shown = agentShown(d), inState = now - d.since;  // since 0: a campaign session's agent, not timed
    let level = "";
    if (d.since && shown === "paused" && inState > (TH.pause_limits[d.reason] ?? TH.pause_over)) level = "alert";
    if (d.since && (shown === "wrap_up" || shown === "wrap") && inState > TH.wrapup_over) level = "alert";
    // the current call: its service and how long the agent has been on it (time in its talking state)
    const onCall = shown === "on_call" || shown === "on_hold" || shown === "talking";
    const call = onCall ? `${d.call_service || ""} ${d.since ? dur(inState) : ""}`.trim() : "";
    const day = held.agent_day.get(key);
    return row(key, [cell(label(shown)), cell(d.since ? dur(inState) : "–", level),
      cell(shown === "paused" ? d.reason : ""), cell(call), cell(day ? String(day.handled) : "0"),
      cell(day && day.aht !== null ? dur(day.aht) : "–")]);
  }

  // today's abandoned callers of every service, latest first (masked numbers: the server masks them)
  function drawAbandoned() {
    const body = document.querySelector("#abandoned tbody");
    const all = [];
    for (const [service, d] of held.abandoned) for (const c of d.callers) all.push([service, c]);
    all.sort((a, b) => (b[1].at || 0) - (a[1].at || 0));
    body.replaceChildren(...all.slice(0, 20).map(([service, c]) => {
      const tr = row(service, [cell(c.caller), cell(dur(c.wait)), cell(c.at ? clockFmt.format(new Date(c.at * 1000)) : "–")]);
      if (c.short) tr.children[2].append(` · ${T.short}`);
      return tr;
    }));
  }

  function campaignRow(key, d) {
    const over = d.abandon_rate !== null && d.abandon_rate > TH.abandon_limit ? "alert" : "";
    const talking = (d.seats && d.seats.talking) || 0;
    return row(key, [cell(`${d.lines} / ${d.line_limit}`), cell(String(talking)), cell(String(d.waiting)),
      cell(`${pct(d.abandon_rate)} / ${T.limit} ${pct(TH.abandon_limit)}`, over)]);
  }

  const draw = { service: serviceRow, agent: agentRow, campaign: campaignRow };
  const table = { service: "services", agent: "agents", campaign: "campaigns" };

  function redraw(topic) {
    if (topic === "agent_day") topic = "agent";
    if (topic === "abandoned") return drawAbandoned();
    const body = document.querySelector(`#${table[topic]} tbody`);
    const rows = [...held[topic].entries()].sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }));
    body.replaceChildren(...rows.map(([k, d]) => draw[topic](k, d)));
  }

  function tick(msg) {
    now = msg.now;
    document.getElementById("clock").textContent = clockFmt.format(new Date(now * 1000));
  }

  function take(s) {
    if (held[s.topic]) held[s.topic].set(s.key, s.data);
  }

  const link = document.getElementById("link");
  const setLink = (state, text) => { link.dataset.state = state; link.textContent = text; };
  const source = new EventSource("/wallboard/events");
  hotline.onSignedOut(source);  // the session ended: the server ends the stream and says so
  source.onopen = () => setLink("live", T.live);
  source.onerror = () => setLink("lost", T.reconnecting);
  source.addEventListener("snapshot", (e) => {
    const msg = JSON.parse(e.data);
    tick(msg);
    for (const m of Object.values(held)) m.clear();
    msg.states.forEach(take);
    Object.keys(draw).forEach(redraw);
    drawAbandoned();
    setLink("live", T.live);
  });
  source.addEventListener("change", (e) => {
    const msg = JSON.parse(e.data);
    tick(msg);
    if (!held[msg.topic]) return;
    take(msg);
    redraw(msg.topic);
    log.push({ topic: msg.topic, key: msg.key, data: msg.data, wall: msg.wall,
      shown: performance.timeOrigin + performance.now() });
    if (log.length > 2000) log.splice(0, 1000);
  });
  source.addEventListener("tick", (e) => { tick(JSON.parse(e.data)); redraw("agent"); });
})();
