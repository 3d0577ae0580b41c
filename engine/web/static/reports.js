// The report pages are plain HTML: this only gives the sign-out form the session's CSRF token.
"use strict";
(async () => {
  const r = await fetch("/me", { headers: { Accept: "application/json" } });
  if (!r.ok) return;
  const me = await r.json();
  document.querySelectorAll('input[name="csrf"]').forEach((i) => { i.value = me.csrf || ""; });
})();
