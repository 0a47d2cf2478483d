// The console works without this file; it only adds conveniences (no inline script: CSP).
"use strict";

// --- the live queue: Server-Sent Events, and an alarm for each new emergency case ---
(function () {
  const live = document.getElementById("queue-live");
  if (!live || !window.EventSource) { return; }
  const banner = document.getElementById("urgent-alert");
  const bannerText = banner.querySelector(".urgent-text");
  const state = document.getElementById("live-state");
  const title = document.title;
  const seen = new Set();   // "CODE:urgency" of emergency cases already announced
  let unacknowledged = [];
  let repeat = null;
  let audio = null;
  document.body.dataset.alarms = "0";

  function urgentCodes() {
    return Array.from(live.querySelectorAll("tr[data-urgency=darurat]"), (row) => row.dataset.case);
  }
  urgentCodes().forEach((code) => seen.add(code + ":darurat"));

  function context() {
    if (!audio) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) { return null; }
      audio = new Ctx();
    }
    return audio;
  }
  // Three rising beeps, made here (no file to fetch); loud enough to hear across a room.
  function beep() {
    const ctx = context();
    if (!ctx) { return; }
    const play = () => {
      [0, 0.35, 0.7].forEach((offset, i) => {
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.type = "square";
        osc.frequency.value = 660 + i * 220;
        gain.gain.setValueAtTime(0.0001, ctx.currentTime + offset);
        gain.gain.exponentialRampToValueAtTime(0.3, ctx.currentTime + offset + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + offset + 0.28);
        osc.connect(gain).connect(ctx.destination);
        osc.start(ctx.currentTime + offset);
        osc.stop(ctx.currentTime + offset + 0.3);
      });
      document.body.dataset.sounds = String(Number(document.body.dataset.sounds || 0) + 1);
    };
    if (ctx.state === "running") { play(); return; }
    ctx.resume().then(() => {
      if (ctx.state === "running") { play(); } else { soundBlocked(); }
    }, soundBlocked);
    // Browsers may leave the promise pending without a click: say so at once.
    window.setTimeout(() => { if (ctx.state !== "running") { soundBlocked(); } }, 500);
  }
  function soundBlocked() {
    if (banner.querySelector(".sound-off")) { return; }
    const note = document.createElement("p");
    note.className = "sound-off";
    note.textContent = banner.dataset.soundOff;
    banner.appendChild(note);
  }
  document.addEventListener("click", () => {
    const ctx = context();
    if (ctx && ctx.state !== "running") { ctx.resume(); }
    const note = banner.querySelector(".sound-off");
    if (note && ctx && ctx.state === "running") { note.remove(); }
  });

  function alarm(codes) {
    unacknowledged = unacknowledged.concat(codes.filter((c) => !unacknowledged.includes(c)));
    bannerText.textContent = banner.dataset.text.replace("{codes}", unacknowledged.join(", "));
    banner.hidden = false;
    document.title = "(!) " + title;
    document.body.dataset.alarms = String(Number(document.body.dataset.alarms) + 1);
    beep();
    if (!repeat) { repeat = window.setInterval(beep, 20000); }
  }
  document.getElementById("urgent-ack").addEventListener("click", () => {
    banner.hidden = true;
    unacknowledged = [];
    document.title = title;
    if (repeat) { window.clearInterval(repeat); repeat = null; }
  });

  const source = new EventSource(live.dataset.events);
  source.addEventListener("open", () => { state.textContent = state.dataset.live; });
  source.addEventListener("error", () => {
    state.textContent = source.readyState === EventSource.CLOSED ? state.dataset.ended : state.dataset.lost;
  });
  source.addEventListener("ended", () => { source.close(); state.textContent = state.dataset.ended; });
  source.addEventListener("queue", (event) => {
    const focused = document.activeElement && live.contains(document.activeElement)
      ? document.activeElement.getAttribute("aria-label") : null;
    live.innerHTML = event.data;   // server-rendered, escaped by the template
    if (focused) {
      const again = Array.from(live.querySelectorAll("[aria-label]")).find((el) => el.getAttribute("aria-label") === focused);
      if (again) { again.focus(); }
    }
    const fresh = urgentCodes().filter((code) => !seen.has(code + ":darurat"));
    fresh.forEach((code) => seen.add(code + ":darurat"));
    if (fresh.length) { alarm(fresh); }
  });
})();
