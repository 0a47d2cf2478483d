// The web chat works without this file (forms and a redirect); this adds live replies.
// No inline script anywhere (CSP). Replies are fetched by long polling /chat/replies
// after the last line shown, so a reconnect gets what it missed and nothing twice.
"use strict";

(function () {
  const chat = document.getElementById("chat");
  if (!chat || !window.fetch) { return; }
  const list = document.getElementById("lines");
  const choices = document.getElementById("choices");
  const notice = document.getElementById("notice");
  const text = document.getElementById("text");
  let last = Number(chat.dataset.last || 0);
  const names = { you: chat.dataset.you, bot: chat.dataset.bot };

  function newId() {
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function show(line) {
    if (line.seq <= last) { return; }
    last = line.seq;
    chat.dataset.last = String(last);
    const item = document.createElement("li");
    item.className = "line " + (line.who === "bot" ? "bot" : "you");
    item.dataset.seq = String(line.seq);
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = names[line.who] || "";
    const body = document.createElement("span");
    body.className = "text";
    body.textContent = line.text;
    item.append(who, body);
    list.append(item);
    item.scrollIntoView({ block: "end" });
    if (line.who === "bot") { buttons(line.options); }
  }

  function buttons(options) {
    choices.querySelectorAll("button").forEach((b) => b.remove());
    options.forEach(([value, label]) => {
      const button = document.createElement("button");
      button.type = "submit";
      button.name = "choice";
      button.value = value;
      button.textContent = label;
      choices.append(button);
    });
  }

  async function poll() {
    for (;;) {
      try {
        const response = await fetch("/chat/replies?after=" + last, {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        });
        if (response.status === 403) { return; }
        const body = await response.json();
        body.lines.forEach(show);
      } catch (error) {
        await new Promise((resolve) => window.setTimeout(resolve, 2000));
      }
    }
  }

  async function post(form, submitter) {
    const data = new FormData(form, submitter);
    data.set("mid", newId());
    notice.textContent = "";
    const response = await fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(data),
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    const body = await response.json();
    if (body.reload) { window.location.reload(); return; }
    notice.textContent = body.notice || "";
    if (response.ok && form.id === "send") { text.value = ""; }
    if (response.ok && submitter && submitter.name === "start") { submitter.remove(); }
  }

  document.querySelectorAll("form#send, form#choices").forEach((form) => {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      post(form, event.submitter).catch(() => form.submit());
    });
  });
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      document.getElementById("send").requestSubmit();
    }
  });
  poll();
}());
