// The console works without this file; it only adds conveniences (no inline script: CSP).
"use strict";

// --- a table wider than the screen scrolls in its own box, which the keyboard reaches too ---
// (templates mark theirs; this covers any box left unmarked, named by its table's caption
// or its section's heading)
(function () {
  document.querySelectorAll(".scroll:not([tabindex])").forEach((box) => {
    const section = box.closest("section");
    const named = box.querySelector("caption") || (section && section.querySelector("h2, h3"));
    box.tabIndex = 0;
    if (named && named.textContent.trim()) {
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", named.textContent.trim());
    }
  });
})();

// --- the header's menu: folded on a phone (the page keeps the screen), open on a wide one ---
(function () {
  const menu = document.getElementById("top-menu");
  if (!menu || !window.matchMedia) { return; }
  const phone = window.matchMedia("(max-width: 760px)");
  menu.closest("header").classList.add("folds");
  const fit = () => { menu.open = !phone.matches; };
  fit();
  phone.addEventListener("change", fit);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && phone.matches && menu.open) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
})();

// --- the alarm: a banner, a sound and the title for each new emergency, on every page ---
// The queue page feeds it from its own table; other pages from /console/alarm/events.
// Announced and unacknowledged codes are kept for the tab (sessionStorage), so moving
// between pages neither repeats an alarm nor drops one that nobody acknowledged.
const alarm = (function () {
  const banner = document.getElementById("urgent-alert");
  if (!banner) { return null; }
  const bannerText = banner.querySelector(".urgent-text");
  const title = document.title;
  let repeat = null;
  let audio = null;
  document.body.dataset.alarms = "0";

  function load(key) {
    try { return JSON.parse(window.sessionStorage.getItem(key) || "[]"); } catch (e) { return []; }
  }
  function save(key, value) {
    try { window.sessionStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode */ }
  }
  const seen = new Set(load("lk3-alarm-seen"));
  let open = load("lk3-alarm-open");   // [{code, label}] not acknowledged yet

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
    if (!audio) { return; }
    if (audio.state !== "running") { audio.resume(); }
    const note = banner.querySelector(".sound-off");
    if (note && audio.state === "running") { note.remove(); }
  });

  function show() {
    save("lk3-alarm-open", open);
    save("lk3-alarm-seen", Array.from(seen));
    if (!open.length) {
      banner.hidden = true;
      document.title = title;
      if (repeat) { window.clearInterval(repeat); repeat = null; }
      return;
    }
    bannerText.textContent = banner.dataset.text.replace("{codes}", open.map((c) => c.label).join(", "));
    banner.hidden = false;
    document.title = "(!) " + title;
    if (!repeat) { repeat = window.setInterval(beep, 20000); }
  }
  document.getElementById("urgent-ack").addEventListener("click", () => {
    open = [];
    show();
  });

  return {
    // Codes shown when a page loads are there to see: no alarm for them.
    known(cases) { cases.forEach((c) => seen.add(c.code)); show(); },
    // The urgent cases waiting now: alarm for new ones; drop those taken meanwhile.
    update(cases) {
      const waiting = new Set(cases.map((c) => c.code));
      const fresh = cases.filter((c) => !seen.has(c.code));
      fresh.forEach((c) => seen.add(c.code));
      open = open.filter((c) => waiting.has(c.code)).concat(fresh);
      show();
      if (fresh.length) {
        document.body.dataset.alarms = String(Number(document.body.dataset.alarms) + 1);
        beep();
      }
    },
    listen(url) {
      if (!window.EventSource) { return; }
      const source = new EventSource(url);
      source.addEventListener("urgent", (event) => { this.update(JSON.parse(event.data)); });
      source.addEventListener("ended", () => { source.close(); });
    },
    restore() { show(); },
  };
})();

// --- the live queue: Server-Sent Events ---
(function () {
  const live = document.getElementById("queue-live");
  if (!live) {
    const banner = document.getElementById("urgent-alert");
    if (alarm && banner.dataset.events) { alarm.restore(); alarm.listen(banner.dataset.events); }
    return;
  }
  function urgent() {
    return Array.from(live.querySelectorAll("tr[data-urgency=darurat]"), (row) => ({
      code: row.dataset.case, label: row.dataset.label || row.dataset.case,
    }));
  }
  if (alarm) { alarm.known(urgent()); }
  if (!window.EventSource) { return; }
  const state = document.getElementById("live-state");
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
    if (alarm) { alarm.update(urgent()); }
  });
})();

// --- a case: the conversation live, and a reply sent without leaving the page ---
(function () {
  const thread = document.getElementById("case-thread");
  if (!thread) { return; }
  const liveState = document.getElementById("case-live-state");
  const form = document.getElementById("reply-form");
  let mark = thread.dataset.mark;

  function swap(html, newMark) {
    const box = form && form.querySelector("textarea");
    const typing = box && document.activeElement === box;
    thread.innerHTML = html;   // server-rendered, escaped by the template
    if (newMark) { mark = newMark; thread.dataset.mark = newMark; }
    if (typing) { box.focus({ preventScroll: true }); box.scrollIntoView({ block: "nearest" }); }
  }

  if (thread.dataset.events && window.EventSource) {
    const url = thread.dataset.events + "?since=" + encodeURIComponent(mark) +
      "&state=" + encodeURIComponent(thread.dataset.state || "");
    const source = new EventSource(url);
    source.addEventListener("thread", (event) => {
      const before = thread.querySelectorAll("li.msg.in").length;
      swap(event.data, null);
      if (thread.querySelectorAll("li.msg.in").length > before) {
        liveState.textContent = thread.dataset.newMessage;
      }
    });
    source.addEventListener("changed", () => {
      liveState.textContent = "";
      const note = document.createElement("span");
      note.className = "changed";
      note.textContent = thread.dataset.changed + " ";
      const link = document.createElement("a");
      link.href = window.location.pathname;
      link.textContent = thread.dataset.reload;
      note.appendChild(link);
      liveState.appendChild(note);
    });
    source.addEventListener("ended", () => { source.close(); });
  }

  if (!form || !window.fetch || !window.FormData) { return; }
  const box = form.querySelector("textarea");
  const status = document.getElementById("reply-status");
  const button = form.querySelector("button[type=submit]");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!box.value.trim()) { box.focus(); return; }
    button.disabled = true;
    status.className = "reply-status";
    status.textContent = form.dataset.sending;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "X-Requested-With": "fetch" },
      credentials: "same-origin",
    }).then((response) => {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then((answer) => {
      if (answer.thread) { swap(answer.thread, answer.mark); }
      status.className = "reply-status " + (answer.ok ? "notice" : "error");
      status.textContent = answer.notice;
      if (answer.ok) { box.value = ""; }
    }).catch(() => {
      status.className = "reply-status error";
      status.textContent = form.dataset.failed;
    }).finally(() => {
      button.disabled = false;
      box.focus();
    });
  });
})();
