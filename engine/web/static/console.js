// What every page's script shares: durations, the engine's clock in the site's zone, and leaving for the
// sign-in form when the server ends a stream whose session ended (engine/web/stream_guard.py).
"use strict";
window.hotline = {
  dur(s) {
    s = Math.max(0, Math.round(s));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const mm = String(m).padStart(h ? 2 : 1, "0"), ss = String(r).padStart(2, "0");
    return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
  },
  clock(boot) {
    return new Intl.DateTimeFormat(boot.lang === "zh" ? "zh-CN" : "en-GB",
      { timeZone: boot.timezone, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  },
  onSignedOut(source) {
    source.addEventListener("signedout", () => {
      source.close();
      location.assign(`/signin?next=${encodeURIComponent(location.pathname)}`);
    });
  },
};
