// QA's check of AMD: a label per sample, sent with the session's CSRF token; the item then says what was given.
"use strict";
(() => {
  const boot = document.getElementById("boot");
  const t = boot ? JSON.parse(boot.textContent) : {};  // the QA home shares this script for its sign-out token
  let csrf = "";
  fetch("/me", { headers: { Accept: "application/json" } }).then((r) => (r.ok ? r.json() : {})).then((me) => {
    csrf = me.csrf || "";
    document.querySelectorAll('input[name="csrf"]').forEach((i) => { i.value = csrf; });
  }).catch(() => {});
  document.querySelectorAll("#amd li").forEach((li) => {
    const out = li.querySelector("output");
    li.querySelectorAll("button[data-label]").forEach((b) => {
      b.addEventListener("click", async () => {
        const r = await fetch(`/qa/amd/${encodeURIComponent(li.dataset.call)}/label`, {
          method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
          body: JSON.stringify({ label: b.dataset.label }),
        });
        const reply = await r.json().catch(() => ({ ok: false, reason: `HTTP ${r.status}` }));
        out.textContent = reply.ok ? `${t.labelled}: ${b.textContent}` : `${t.refused}: ${reply.reason}`;
        li.dataset.done = reply.ok ? "yes" : "no";
        if (reply.ok) li.querySelectorAll("button").forEach((x) => { x.disabled = true; });
      });
    });
  });
  document.body.dataset.ready = "yes";
})();
