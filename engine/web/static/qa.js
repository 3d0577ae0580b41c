// The replay page: the two sides' waveform with the call's timeline over it, seeking by marker, speeds.
"use strict";
(() => {
  const boot = JSON.parse(document.getElementById("boot").textContent);
  const t = boot.texts, info = boot.info;
  const player = document.getElementById("player");
  const canvas = document.getElementById("wave-canvas");
  const marks = document.getElementById("marks");
  const head = document.getElementById("playhead");
  const length = info.seconds;
  document.getElementById("length").textContent = hotline.dur(length);

  function draw() {
    const w = canvas.clientWidth || 800, h = canvas.height;
    canvas.width = w;
    const g = canvas.getContext("2d");
    g.clearRect(0, 0, w, h);
    g.fillStyle = "#555";
    const mid = h / 2;
    boot.peaks.forEach((lane, ch) => {
      lane.forEach((p, i) => {
        const x = Math.floor((i / lane.length) * w), bar = Math.max(1, Math.ceil(w / lane.length));
        const y = p * (mid - 2);
        if (ch === 0) g.fillRect(x, mid - y, bar, y); else g.fillRect(x, mid, bar, y);
      });
    });
    g.fillStyle = "#000";
    g.fillRect(0, mid, w, 1);
  }

  function seek(at) {
    player.currentTime = Math.min(Math.max(0, at), length);
    head.style.left = `${(player.currentTime / length) * 100}%`;
  }

  function when(at) { return at < 0 ? `−${hotline.dur(-at)}` : hotline.dur(at); }

  const list = document.getElementById("markers");
  boot.markers.forEach((m) => {
    const inside = m.at >= 0 && m.at <= length;
    if (inside) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = `mark mark-${m.kind}`;
      b.style.left = `${(m.at / length) * 100}%`;
      b.title = `${when(m.at)} ${m.label}`;
      b.setAttribute("aria-label", `${t[m.kind] || m.kind} ${when(m.at)}`);
      b.dataset.kind = m.kind;
      b.addEventListener("click", () => seek(m.at));
      marks.appendChild(b);
    }
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.kind = m.kind;
    b.dataset.at = String(m.at);
    b.textContent = `${when(m.at)} · ${t[m.kind] || m.kind}: ${m.label}${m.at < 0 ? ` (${t.before})` : ""}`;
    b.addEventListener("click", () => seek(m.at));
    li.appendChild(b);
    list.appendChild(li);
  });

  document.querySelectorAll("button[data-speed]").forEach((b) => {
    b.addEventListener("click", () => {
      player.playbackRate = Number(b.dataset.speed);
      document.querySelectorAll("button[data-speed]").forEach((o) => o.setAttribute("aria-pressed", String(o === b)));
    });
  });
  player.addEventListener("timeupdate", () => { head.style.left = `${(player.currentTime / length) * 100}%`; });

  const talk = boot.talk;
  if (talk) {
    const pct = (r) => (r === null ? "–" : `${Math.round(r * 100)} %`);
    document.getElementById("talk-caller").textContent = `${pct(talk.caller_ratio)} (${hotline.dur(talk.caller_talk)})`;
    document.getElementById("talk-agent").textContent = `${pct(talk.agent_ratio)} (${hotline.dur(talk.agent_talk)})`;
    document.getElementById("talk-over").textContent = `${talk.talk_over.toFixed(1)} s`;
    const sil = document.getElementById("silences");
    if (!talk.silences.length) sil.outerHTML = `<span>${t.none}</span>`;
    talk.silences.forEach((s) => {
      const li = document.createElement("li"), b = document.createElement("button");
      b.type = "button";
      b.textContent = `${hotline.dur(s.at)} · ${s.seconds.toFixed(1)} s`;
      b.addEventListener("click", () => seek(s.at));
      li.appendChild(b);
      sil.appendChild(li);
    });
  }
  fetch("/me", { headers: { Accept: "application/json" } }).then((r) => (r.ok ? r.json() : {})).then((me) => {
    document.querySelectorAll('input[name="csrf"]').forEach((i) => { i.value = me.csrf || ""; });
  }).catch(() => {});
  window.addEventListener("resize", draw);
  draw();
  window.hotlineQa = { seek };
})();
