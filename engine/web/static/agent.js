// The agent page's only script: reads /agent/events (the agent's whole view at each change, a tick each quiet
// second), shows only the buttons that fit the agent's state, and posts each to /api/action with the session's
// CSRF token; the service API's answer (done, or refused and why) is read out in the #result live region.
"use strict";
(() => {
  const boot = JSON.parse(document.getElementById("boot").textContent);
  const T = boot.texts, A = boot.agent;
  const $ = (id) => document.getElementById(id);
  let view = { agent: null, day: null, call: null, last: null, lead: null, customer: null };
  let now = 0;
  let csrf = "";
  // what the page was sent and what it did, for the browser tests: bounded
  const log = (window.agentLog = []);
  const acts = (window.agentActions = []);
  const clockFmt = hotline.clock(boot);

  const dur = hotline.dur;
  const label = (k) => (k in T ? T[k] : k);
  const text = (id, value) => { $(id).textContent = value; };
  const show = (el, yes) => { if (el) el.hidden = !yes; };

  // what the agent does: the ACD's state while not idle, else its campaign session's phase (the status is shown
  // beside it)
  function doing(d) {
    if (d.state !== "idle") return d.state;
    if (d.phase && d.phase !== "off" && d.phase !== "idle") return d.phase;
    return d.status === "logged_out" ? "logged_out" : "idle";
  }

  // the buttons that make sense now (the service API still decides: a refusal is shown as it comes)
  function fitting(v) {
    const d = v.agent, ok = new Set();
    if (!d) return ok;
    const out = d.phase === "talking" || d.phase === "wrap";
    if (d.status === "logged_out") ok.add("login");
    if (d.status !== "logged_out" && (d.state === "idle" || d.state === "wrap_up") && !out) ok.add("logout");
    if (d.status === "available") ok.add("pause");
    if (d.status === "paused") ok.add("resume");
    if (d.state === "wrap_up") ok.add("wrapup_end");
    if (d.status !== "logged_out") ok.add("complaint");  // about its latest call: the engine finds which
    if (A.campaign && ((v.call && v.call.direction === "out") || v.last)) {
      for (const a of ["wrap-actions", "disposition", "callback", "callback_any", "sale"]) ok.add(a);
    }
    if (A.mode === "preview") {
      const free = d.state === "idle" && (d.phase === "idle" || d.phase === "wrap");
      const held = v.lead && v.lead.status === "held";
      // next while nothing is held, or again for a held lead whose number this page has not seen (the same lead)
      if ((!v.lead && free) || (held && !v.lead.number)) ok.add("preview_next");
      if (held && free) ok.add("preview_dial");
      if (held) ok.add("preview_skip");
    }
    return ok;
  }

  function pathItem([node, step, detail]) {
    const li = document.createElement("li");
    li.textContent = step === "enter" ? node : `${node}: ${label(step)}${detail ? " " + detail : ""}`;
    return li;
  }

  function drawCall(c) {
    show($("call"), !!c);
    show($("no-call"), !c);
    if (!c) return;
    text("call-service", `${c.service || "–"} (${label(c.direction)})`);
    text("call-caller", c.caller || "–");
    $("call-path").replaceChildren(...(c.path.length ? c.path.map(pathItem) : [pathItem(["–", "enter", ""])]));
    const vars = Object.entries(c.variables || {});
    const account = vars.find(([k]) => /account/i.test(k));
    text("call-account", account ? account[1] : "–");
    text("call-tags", c.tags.length ? c.tags.join(", ") : "–");
    text("call-variables", vars.filter((kv) => kv !== account).map(([k, x]) => `${k} = ${x}`).join(", ") || "–");
  }

  // the screen pop: the customer's card as the engine found it under the call's number, and the external CRM's
  // page, opened once per call in a window of its own (a browser that blocks it still has the link)
  const stamp = new Intl.DateTimeFormat(boot.lang === "zh" ? "zh-CN" : "en-GB", { timeZone: boot.timezone,
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false });
  const when = (t) => (t ? stamp.format(new Date(t * 1000)) : "–");
  const item = (words, href) => {
    const li = document.createElement("li");
    if (href) {
      const a = document.createElement("a");
      a.href = href;
      a.textContent = words;
      li.append(a);
    } else li.textContent = words;
    return li;
  };
  let popped = "";

  function drawCustomer(p) {
    show($("customer-section"), !!p);
    if (!p) return;
    const card = p.card;
    show($("customer-pop"), !!p.url);
    if (p.url) $("customer-url").href = p.url;
    if (p.url && boot.own && popped !== p.call) {
      popped = p.call;
      window.open(p.url, "hotline-crm", "noopener");
    }
    show($("customer-record"), !!(card && card.customer));
    if (card && card.customer) $("customer-record-link").href = `/customers/${card.customer}`;
    show($("customer"), !!(card && card.known));
    show($("customer-none"), !(card && card.known) && !p.url);
    text("customer-none", card ? (card.failed ? T.customer_failed : T.customer_new) : T.customer_withheld);
    if (!card || !card.known) return;
    text("customer-name", card.name || "–");
    text("customer-number", card.number);
    $("customer-leads").replaceChildren(...(card.leads.length ? card.leads.map((l) => item([
      `${T.lead} ${l.lead} (${l.campaign})`, l.name, label(l.status), `${l.attempts} ${T.attempts}`,
      l.last_outcome, ...l.fields.map(([k, x]) => `${k}: ${x}`)].filter(Boolean).join(" · "))) : [item(T.none)]));
    const calls = card.calls.map((c) => item([when(c.at), c.service, label(`call_${c.outcome}`), c.agent,
      c.talk ? dur(c.talk) : "", c.recorded ? T.recorded : ""].filter(Boolean).join(" · "),
      c.recorded ? `/qa/calls/${encodeURIComponent(c.call)}` : ""));
    if (card.more_calls) calls.push(item(T.more_calls.replace("{n}", card.more_calls)));
    $("customer-calls").replaceChildren(...(calls.length ? calls : [item(T.none)]));
    const cases = card.cases.map((c) => item([c.case, label(`case_${c.kind}`), label(`case_${c.status}`),
      when(c.opened_at), c.note, c.resolution].filter(Boolean).join(" · "), `/cases/${encodeURIComponent(c.case)}`));
    $("customer-cases").replaceChildren(...(cases.length ? cases : [item(T.none)]));
    const notes = (card.notes || []).map((n) => item(`${when(n.at)} · ${n.by}: ${n.text}`));
    $("customer-notes").replaceChildren(...(notes.length ? notes : [item(T.none)]));
  }

  function drawClock() {
    $("clock").textContent = now ? clockFmt.format(new Date(now * 1000)) : "--:--:--";
    const d = view.agent, c = view.call;
    text("in-state", d && d.since ? dur(now - d.since) : "–");
    if (c) {
      const from = c.connected ?? c.offered;
      text("call-duration", from ? dur((c.ended ?? now) - from) : "–");
    }
  }

  function draw() {
    const v = view, d = v.agent;
    text("status", d ? label(d.status) : "–");
    text("state", d ? label(doing(d)) : "–");
    text("reason", d && d.status === "paused" ? d.reason : "–");
    drawCall(v.call);
    drawCustomer(v.customer);
    if ($("last")) {
      show($("last"), !!v.last);
      if (v.last) text("last-call", [v.last.lead !== null ? `${T.lead} ${v.last.lead}` : "", v.last.caller]
        .filter(Boolean).join(" · "));
    }
    if ($("lead")) {
      show($("lead"), !!v.lead);
      show($("no-lead"), !v.lead);
      if (v.lead) {
        text("lead-id", `${v.lead.lead} (${v.lead.campaign})`);
        text("lead-number", v.lead.number || "–");
        text("lead-status", label(v.lead.status));
      }
    }
    const day = v.day;
    show($("day"), !!day);
    show($("no-day"), !day);
    if (day) {
      text("day-handled", String(day.handled ?? 0));
      text("day-aht", day.aht === null || day.aht === undefined ? "–" : dur(day.aht));
      for (const k of ["talk", "hold", "wrap"]) text(`day-${k}`, dur(day[k] || 0));
    }
    const ok = fitting(v);
    document.querySelectorAll("[data-action]").forEach((b) => {
      if (!b.closest("[data-for]")) show(b, ok.has(b.dataset.action));
    });
    document.querySelectorAll("[data-for]").forEach((g) => show(g, ok.has(g.dataset.for)));
    show($("wrap-actions"), ok.has("wrap-actions"));
    drawClock();
  }

  async function act(button) {
    const action = button.dataset.action;
    const field = button.dataset.arg ? document.querySelector(button.dataset.arg) : null;
    // a sale's order goes as one JSON object: the service API checks each field and names a wrong one
    const arg = button.dataset.order ? JSON.stringify({ product: $("sale-product").value.trim(),
      quantity: $("sale-quantity").value.trim(), amount: $("sale-amount").value.trim() })
      : field ? field.value.trim() : "";
    const result = $("result");
    button.disabled = true;
    let body;
    try {
      const reply = await fetch("/api/action", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ action, agent: A.id, arg }),
      });
      body = await reply.json();
      body.status = reply.status;
    } catch (e) {
      body = { ok: false, reason: T.failed };
    } finally {
      button.disabled = false;
    }
    result.dataset.ok = body.ok ? "yes" : "no";
    result.textContent = body.ok ? `${T.done}: ${body.result}` : `${T.refused}: ${body.reason}`;
    acts.push({ action, arg, ...body });
    if (acts.length > 200) acts.splice(0, 100);
  }

  fetch("/me", { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then((r) => r.json())
    .then((me) => {
      csrf = me.csrf || "";
      document.querySelectorAll('input[name="csrf"]').forEach((i) => { i.value = csrf; });
      document.body.dataset.ready = "yes";
    });
  if (boot.own) document.querySelectorAll("[data-action]").forEach((b) => b.addEventListener("click", () => act(b)));

  // a fax: the PDF itself is the body (the route reads no multipart), the number and case in the query
  async function sendFax(event) {
    event.preventDefault();
    const form = event.target;
    const file = $("fax-file").files[0];
    const result = $("result");
    const button = form.querySelector("button");
    const q = new URLSearchParams({ number: $("fax-number").value.trim(), case: $("fax-case").value.trim() });
    button.disabled = true;
    let body;
    try {
      const reply = await fetch(`/fax/send?${q}`, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/pdf", "X-CSRF-Token": csrf }, body: file,
      });
      body = await reply.json();
    } catch (e) {
      body = { ok: false, reason: T.failed };
    } finally {
      button.disabled = false;
    }
    result.dataset.ok = body.ok ? "yes" : "no";
    result.textContent = body.ok ? T.fax_queued.replace("{job}", body.job).replace("{pages}", body.pages)
      : `${T.refused}: ${body.reason}`;
    if (body.ok) form.reset();
  }
  // the knowledge base: the answers holding every word typed, each opening in a tab of its own
  async function findAnswers(event) {
    event.preventDefault();
    const q = $("kb-q").value.trim();
    if (!q) return;
    let found = [];
    try {
      const reply = await fetch(`/kb/search?q=${encodeURIComponent(q)}`, { credentials: "same-origin" });
      found = (await reply.json()).articles || [];
    } catch (e) {
      found = [];
    }
    $("kb-results").replaceChildren(...(found.length ? found.map((a) => {
      const li = item(`${a.ref} ${a.title}`, `/kb/${a.id}`);
      li.firstChild.target = "_blank";
      const p = document.createElement("p");
      p.className = "note";
      p.textContent = a.snippet;
      li.append(p);
      return li;
    }) : [item(T.kb_none)]));
  }
  const kbForm = $("kb-form");
  if (kbForm) kbForm.addEventListener("submit", findAnswers);

  const faxForm = $("fax-form");
  if (faxForm) faxForm.addEventListener("submit", sendFax);

  const link = $("link");
  const setLink = (state, words) => { link.dataset.state = state; link.textContent = words; };
  const source = new EventSource(`/agent/events?agent=${encodeURIComponent(A.id)}`);
  hotline.onSignedOut(source);  // the session ended: the server ends the stream and says so
  source.onopen = () => setLink("live", T.live);
  source.onerror = () => setLink("lost", T.reconnecting);
  source.addEventListener("view", (e) => {
    const msg = JSON.parse(e.data);
    now = msg.now;
    view = msg.view;
    draw();
    setLink("live", T.live);
    log.push({ now: msg.now, wall: msg.wall, view: msg.view });
    if (log.length > 2000) log.splice(0, 1000);
  });
  source.addEventListener("tick", (e) => { now = JSON.parse(e.data).now; drawClock(); });
})();
