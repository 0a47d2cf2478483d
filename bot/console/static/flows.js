// The flows page: the draft is checked while the admin types, and the test chat answers
// in place. Without this file both still work as plain forms (no inline script: CSP).
"use strict";

// --- the check as you type: ~0.6 s after the last key, newest answer wins ---
(function () {
  const editor = document.getElementById("flow-source");
  const live = document.getElementById("flow-live");
  const form = document.getElementById("flow-form");
  if (!editor || !live || !form || !window.fetch) { return; }
  const token = form.querySelector("input[name=csrf]").value;
  document.getElementById("flow-live-hint").hidden = false;
  let timer = null;
  let latest = 0;    // the number of the newest request; an older answer arriving late is dropped
  let answers = 0;   // answers received (shown or dropped), for people and tests to follow
  live.dataset.answers = "0";

  function show(kind, summary, problems) {
    live.className = "live-check " + kind;
    live.replaceChildren();
    const head = document.createElement("p");
    head.textContent = summary;
    live.appendChild(head);
    if (problems && problems.length) {
      const list = document.createElement("ul");
      list.className = "problems";
      problems.forEach((problem) => {
        const item = document.createElement("li");
        item.textContent = problem.text;
        list.appendChild(item);
      });
      live.appendChild(list);
    }
  }

  function answered() {
    answers += 1;
    live.dataset.answers = String(answers);
  }

  async function check() {
    const mine = ++latest;
    show("pending", live.dataset.checking);
    try {
      const response = await fetch(live.dataset.url, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "Accept": "application/json",
          "X-CSRF-Token": token,
        },
        body: JSON.stringify({ source: editor.value }),
      });
      const answer = await response.json().catch(() => ({}));
      if (mine === latest) {
        if (response.ok && typeof answer.valid === "boolean") {
          show(answer.valid ? "valid" : "invalid", answer.summary, answer.problems);
        } else {
          show("invalid", answer.error || live.dataset.failed);
        }
      }
    } catch (error) {
      if (mine === latest) { show("invalid", live.dataset.failed); }
    }
    answered();
  }

  editor.addEventListener("input", () => {
    if (timer) { window.clearTimeout(timer); }
    timer = window.setTimeout(check, 600);
  });
})();

// --- the test chat: the panel's form is sent with the editor's current draft ---
(function () {
  const holder = document.getElementById("flow-chat");
  const editor = document.getElementById("flow-source");
  const status = document.getElementById("chat-status");
  const announce = document.getElementById("chat-announce");
  if (!holder || !status || !announce || !window.fetch || !window.FormData) { return; }
  let latest = 0;

  function scrollDown() {
    const log = holder.querySelector(".chat-log");
    if (log) { log.scrollTop = log.scrollHeight; }
  }

  function fail(form, message) {
    status.textContent = message || status.dataset.failed;
    status.hidden = false;
    form.removeAttribute("aria-busy");
  }

  async function send(form, submitter) {
    // One turn at a time: each answer carries the conversation the next one continues.
    if (form.getAttribute("aria-busy") === "true") { return; }
    const data = new FormData(form);
    if (submitter && submitter.name) { data.set(submitter.name, submitter.value); }
    if (editor) { data.set("source", editor.value); }
    const mine = ++latest;
    form.setAttribute("aria-busy", "true");
    try {
      // getAttribute: the form has a control named "action", which hides form.action.
      const response = await fetch(form.getAttribute("action"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Accept": "application/json" },
        body: data,
      });
      const answer = await response.json().catch(() => ({}));
      if (mine !== latest) { return; }
      if (!response.ok || typeof answer.html !== "string") { fail(form, answer.error); return; }
      status.hidden = true;
      holder.innerHTML = answer.html;   // rendered and escaped by the server's template
      const lines = Array.from(holder.querySelectorAll(".chat-log > li"));
      const fresh = lines.slice(Math.max(0, lines.length - (answer.added || 0)));
      announce.textContent = fresh.map((line) => line.textContent.trim()).join("\n");
      scrollDown();
      const input = holder.querySelector("#chat-text");
      if (input) { input.focus(); }
    } catch (error) {
      if (mine === latest) { fail(form); }
    }
  }

  holder.addEventListener("submit", (event) => {
    event.preventDefault();
    send(event.target, event.submitter);
  });
  // A new start flow or language applies at once: it restarts the chat.
  holder.addEventListener("change", (event) => {
    if (!event.target.matches("select")) { return; }
    const form = event.target.form;
    send(form, form.querySelector("button[value=restart]"));
  });
  scrollDown();
})();

// --- publish only what was checked: an edit after the check disables the button ---
(function () {
  const editor = document.getElementById("flow-source");
  const publish = document.getElementById("flow-publish");
  const stale = document.getElementById("publish-stale");
  const ready = document.getElementById("publish-hint");
  const upload = document.getElementById("flow-upload");
  if (!editor || !publish) { return; }
  const checked = editor.value;
  function update() {
    const same = editor.value === checked && !(upload && upload.files && upload.files.length);
    publish.disabled = !same;
    if (stale) { stale.hidden = same; }
    if (ready) { ready.hidden = !same; }
  }
  editor.addEventListener("input", update);
  if (upload) { upload.addEventListener("change", update); }
})();
