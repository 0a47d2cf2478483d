// The web chat works without this file (forms and a redirect); this adds live replies.
// No inline script anywhere (CSP). Replies are fetched by long polling /chat/replies
// after the page's cursor (its last line, as the server named it: sent back as given),
// so a reconnect gets what it missed and nothing twice. The server also says which is
// the oldest line it still keeps: older ones leave the page too. When the cursor is of
// an earlier epoch (a quick exit, an erasure, or the page slept past what is kept, so
// line numbers started again) it says `reset`: the page clears every line it shows and
// starts over with the lines sent, which are all that is kept now. When the person left
// with a quick exit (`left`), nothing of the chat may stay on the screen: the page is
// emptied at once and the blank note loaded in its place (no history entry is added).
"use strict";

(function () {
  const chat = document.getElementById("chat");
  if (!chat || !window.fetch) { return; }
  const list = document.getElementById("lines");
  const choices = document.getElementById("choices");
  const notice = document.getElementById("notice");
  const text = document.getElementById("text");
  const waiting = document.getElementById("waiting");
  let last = Number(chat.dataset.last || 0);  // the newest line shown, in this epoch
  let cursor = chat.dataset.cursor || "0";
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
    for (const [piece, bold] of line.parts || [[line.text, false]]) {
      if (bold) {
        const strong = document.createElement("strong");
        strong.textContent = piece;
        body.append(strong);
      } else {
        body.append(document.createTextNode(piece));
      }
    }
    item.append(who, body);
    list.append(item);
    item.scrollIntoView({ block: "end" });
    if (line.who === "bot") { buttons(line.options); }
  }

  // Lines the server no longer keeps leave the page; `first` null: none is kept.
  function trim(first) {
    list.querySelectorAll("li.line").forEach((item) => {
      if (first === null || Number(item.dataset.seq) < first) { item.remove(); }
    });
    if (first === null) { buttons([]); }
  }

  // "Waiting for a reply…" while the person's own message is the last line.
  function pending() {
    const lastLine = list.querySelector("li.line:last-of-type");
    waiting.hidden = !(lastLine && lastLine.classList.contains("you"));
  }

  // Numbered as the bot counts them ("1. Informasi layanan"): the re-ask says "type its
  // number", and typing it picks the button. The number is part of each button's name.
  function buttons(options) {
    choices.querySelectorAll("button").forEach((b) => b.remove());
    options.forEach(([value, label], index) => {
      const button = document.createElement("button");
      button.type = "submit";
      button.name = "choice";
      button.value = value;
      const number = document.createElement("span");
      number.className = "num";
      number.textContent = String(index + 1) + ".";
      button.append(number, document.createTextNode(" " + label));
      choices.append(button);
    });
    choices.hidden = options.length === 0;
  }

  // The quick exit: empty the screen now, then show the blank note the server gives.
  function leave() {
    document.title = chat.dataset.note || "";
    chat.remove();
    window.location.replace("/chat?lang=" + encodeURIComponent(document.documentElement.lang || ""));
  }

  // What an erasure deleted: shown in place of the conversation, gone once they write again.
  const statement = document.getElementById("statement");
  const statementBox = document.getElementById("statement-box");
  function state(parts) {
    if (!statement || !statementBox || !Array.isArray(parts)) { return; }
    statement.replaceChildren(...parts.map(([piece, bold]) => {
      if (!bold) { return document.createTextNode(piece); }
      const strong = document.createElement("strong");
      strong.textContent = piece;
      return strong;
    }));
    statementBox.hidden = parts.length === 0;
  }

  async function poll() {
    for (;;) {
      try {
        const lang = encodeURIComponent(document.documentElement.lang || "");
        const after = encodeURIComponent(cursor);
        const response = await fetch("/chat/replies?after=" + after + "&lang=" + lang, {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        });
        if (response.status === 403) { return; }
        if (!response.ok) { throw new Error("try again later"); }  // 429: too many polls
        const body = await response.json();
        if (body.left) { leave(); return; }
        if (body.reset) { trim(null); last = 0; }
        trim(body.first);
        body.lines.forEach(show);
        state(body.statement);
        if (typeof body.last === "number" && body.last > last) {
          last = body.last;
          chat.dataset.last = String(last);
        }
        if (typeof body.cursor === "string") {
          cursor = body.cursor;
          chat.dataset.cursor = cursor;
        }
        pending();
      } catch (error) {
        await new Promise((resolve) => window.setTimeout(resolve, 2000));
      }
    }
  }

  // A post held back by the rate limit (429 with `retry` seconds) is sent again by
  // itself once the wait is over: a limit slows a person down, never loses words.
  async function post(form, submitter, held) {
    const data = held || new FormData(form, submitter);
    data.set("mid", newId());
    if (!held) { notice.textContent = ""; }
    const response = await fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(data),
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    const body = await response.json();
    if (body.reload) { window.location.reload(); return; }
    notice.textContent = body.notice || "";
    if (response.status === 429 && typeof body.retry === "number") {
      window.setTimeout(() => { post(form, submitter, data).catch(() => form.submit()); },
        Math.max(1, body.retry) * 1000);
      return;
    }
    if (response.ok && form.id === "send" && text.value === (data.get("text") || "")) {
      text.value = "";
      count();
    }
    if (response.ok && submitter && submitter.name === "start") { submitter.remove(); }
  }

  // While typing: the characters the bot still reads at once, shown near the end.
  const counter = document.getElementById("count");
  function count() {
    if (!counter) { return; }
    const read = Number(counter.dataset.read || 0);
    const left = read - text.value.length;
    if (!read || left > 200) {
      counter.hidden = true;
      counter.textContent = "";
      return;
    }
    counter.hidden = false;
    counter.textContent = left >= 0
      ? counter.dataset.left.replace("{left}", String(left))
      : counter.dataset.over;
  }
  text.addEventListener("input", count);
  count();

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
