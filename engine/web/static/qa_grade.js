// The replay page's grading: the site's forms as radio groups, time-coded comments at the playhead, the
// grades this reader may see, a correction as a new version with its reason.
"use strict";
(() => {
  const boot = JSON.parse(document.getElementById("boot").textContent);
  const g = boot.grading;
  if (!g) return;
  const t = boot.texts;
  const $ = (id) => document.getElementById(id);
  $("grading").hidden = false;
  const player = $("player"), form = $("grade-form"), result = $("grade-result");
  let marks = [], correcting = null;

  const mine = g.grades.filter((x) => x.grader === boot.viewer);
  if (g.blind) $("calibrating").hidden = false;
  if (g.blind && !g.grades.length) $("blind-note").hidden = false;

  // the history, oldest first; a version that was corrected says so
  if (!g.grades.length) $("grades").outerHTML = `<p id="grades" class="muted">${t.no_grades}</p>`;
  g.grades.forEach((x) => {
    const li = document.createElement("li");
    li.dataset.grade = x.id;
    const crit = x.critical_failed.length ? ` · ${t.critical}: ${x.critical_failed.join(", ")}` : "";
    const head = document.createElement("p");
    head.textContent = `${x.form} · ${t.by} ${x.grader} · ${t.version} ${x.version} · ${t.score} ${x.score}${crit}`
      + (x.supersedes ? ` · ${t.corrects} ${x.supersedes.slice(0, 8)}: ${x.reason}` : "");
    li.appendChild(head);
    if (x.comments) { const c = document.createElement("p"); c.textContent = x.comments; li.appendChild(c); }
    if (x.marks.length) {
      const ol = document.createElement("ol");
      ol.className = "markers";
      x.marks.forEach((m) => {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = `${hotline.dur(m.at)} · ${m.text}`;
        b.addEventListener("click", () => hotlineQa.seek(m.at));
        const mli = document.createElement("li");
        mli.appendChild(b);
        ol.appendChild(mli);
      });
      li.appendChild(ol);
    }
    const latest = !mine.some((o) => o.form === x.form && o.version > x.version);
    if (x.grader === boot.viewer && latest) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = t.correct;
      b.addEventListener("click", () => start(x));
      li.appendChild(b);
    }
    $("grades").appendChild(li);
  });

  const select = $("grade-form-name");
  g.forms.forEach((f) => { const o = document.createElement("option"); o.value = f.name; o.textContent = f.title; select.appendChild(o); });

  function questions(f, answers) {
    const box = $("questions");
    box.innerHTML = "";
    f.sections.forEach((s) => {
      const qs = f.questions.filter((q) => q.section === s.id);
      if (!qs.length) return;
      const h = document.createElement("h3");
      h.textContent = s.title;
      box.appendChild(h);
      qs.forEach((q) => {
        const fs = document.createElement("fieldset");
        fs.className = "question";
        const lg = document.createElement("legend");
        lg.textContent = q.text + (q.critical ? " ★" : "");
        fs.appendChild(lg);
        [...q.scale, ...(q.na ? ["n/a"] : [])].forEach((a) => {
          const id = `q-${q.id}-${a.replace(/\W/g, "_")}`;
          const r = document.createElement("input");
          Object.assign(r, { type: "radio", name: `q-${q.id}`, value: a, id });
          if (answers && answers[q.id] === a) r.checked = true;
          const l = document.createElement("label");
          l.htmlFor = id;
          l.textContent = a;
          fs.append(r, l);
        });
        box.appendChild(fs);
      });
    });
  }

  function drawMarks() {
    const ol = $("marks-list");
    ol.innerHTML = "";
    marks.forEach((m, i) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = `${hotline.dur(m.at)} · ${m.text} ✕`;
      b.addEventListener("click", () => { marks.splice(i, 1); drawMarks(); });
      li.appendChild(b);
      ol.appendChild(li);
    });
  }

  function start(prev) {
    correcting = prev;
    form.hidden = false;
    select.value = prev ? prev.form : g.forms[0].name;
    select.disabled = Boolean(prev);
    $("reason-row").hidden = !prev;
    $("grade-comments").value = prev ? prev.comments : "";
    marks = prev ? prev.marks.map((m) => ({ ...m })) : [];
    drawMarks();
    questions(g.forms.find((f) => f.name === select.value), prev && prev.answers);
  }

  select.addEventListener("change", () => questions(g.forms.find((f) => f.name === select.value), null));
  $("mark-add").addEventListener("click", () => {
    const text = $("mark-text").value.trim();
    if (!text) return;
    marks.push({ at: Math.round(player.currentTime * 100) / 100, text });
    marks.sort((a, b) => a.at - b.at);
    $("mark-text").value = "";
    drawMarks();
  });

  async function csrf() {
    const r = await fetch("/me", { headers: { Accept: "application/json" } });
    return r.ok ? (await r.json()).csrf || "" : "";
  }

  async function send(path, body) {
    const r = await fetch(path, {
      method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": await csrf() },
      body: JSON.stringify(body),
    });
    let reply = {};
    try { reply = await r.json(); } catch (e) { reply = { ok: false, reason: `HTTP ${r.status}` }; }
    return reply;
  }

  function say(ok, text) {
    result.dataset.ok = ok ? "yes" : "no";
    result.textContent = text;
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = g.forms.find((x) => x.name === select.value);
    const answers = {};
    f.questions.forEach((q) => {
      const r = form.querySelector(`input[name="q-${q.id}"]:checked`);
      if (r) answers[q.id] = r.value;
    });
    const body = { form: f.name, answers: JSON.stringify(answers), marks: JSON.stringify(marks),
                   comments: $("grade-comments").value };
    if (correcting) { body.supersedes = correcting.id; body.reason = $("grade-reason").value; }
    const reply = await send(`/qa/calls/${encodeURIComponent(boot.info.id)}/grade`, body);
    if (reply.ok) {
      say(true, `${t.scored} ${reply.grade.score}`);
      setTimeout(() => location.reload(), 600);
    } else {
      say(false, `${t.refused}: ${reply.reason}`);
    }
  });

  if (g.may_calibrate && !g.grades.length && g.forms.length) {
    $("calibrate").hidden = false;
    $("calibrate").addEventListener("click", async () => {
      const reply = await send(`/qa/calls/${encodeURIComponent(boot.info.id)}/calibrate`, { form: select.value || g.forms[0].name });
      if (reply.ok) { say(true, t.calibrating); setTimeout(() => location.reload(), 600); }
      else say(false, `${t.refused}: ${reply.reason}`);
    });
  }
  if (g.may_grade && g.forms.length && !mine.length) start(null);
  else if (!g.may_grade) form.hidden = true;
  document.body.dataset.ready = "yes";
})();
