// The rehearsal chat page. Plain JavaScript, no build step, nothing fetched from elsewhere.
//
// Each tab is one person: it asks the host for a fresh participant (a made-up Telegram user id
// and a single-use invite), sends `/start <code>` as that person, then shows their private chat
// with the bot. Acting goes through the sandbox's control API; reading is a long-poll that
// answers as soon as the chat changes (new messages, edits, deletions, the bot typing).
"use strict";

(() => {
  const CONTROL = "/_control";
  const PERSON_KEY = "casevoice-rehearsal-person"; // sessionStorage: one person per tab
  const $ = (id) => document.getElementById(id);
  const ui = {
    log: $("log"), chat: $("chat"), empty: $("empty"), status: $("bot-status"),
    botName: $("bot-name"), banner: $("banner"), toast: $("toast"), form: $("composer"),
    message: $("message"), send: $("send"), attach: $("attach"), file: $("audio-file"),
    record: $("record"), recording: $("recording"), recordingText: $("recording-text"),
    cancelRecording: $("cancel-recording"), menu: $("menu"), menuList: $("menu-list"),
    menuButton: $("menu-button"), newPerson: $("new-person"),
  };

  let config = { person_url: null, bot: { name: "CaseVoice" }, commands: [] };
  let person = null;
  let version = "";
  let generation = 0; // bumped when the person changes: older poll loops stop
  const seenToasts = new Set();
  let firstView = true;

  // --- talking to the server -----------------------------------------------------------------

  async function json(url, options = {}) {
    const response = await fetch(url, {
      headers: { "Content-Type": "application/json" }, cache: "no-store", ...options,
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
    return body;
  }

  function act(action, body = {}) {
    return json(`${CONTROL}/users/${person.user_id}/${action}`, {
      method: "POST",
      body: JSON.stringify({ first_name: person.first_name, language_code: "en", ...body }),
    });
  }

  // --- who this tab is --------------------------------------------------------------------------

  async function loadConfig() {
    try {
      config = await json("api/config");
    } catch (error) {
      showToast(`Cannot reach the rehearsal server (${error.message}).`);
    }
    ui.botName.textContent = (config.bot && config.bot.name) || "CaseVoice";
  }

  async function createPerson() {
    const role = new URLSearchParams(location.search).get("role") || "family";
    if (config.person_url) {
      const made = await json(config.person_url, { method: "POST", body: JSON.stringify({ role }) });
      return { ...made, started: false };
    }
    // A bare sandbox cannot make invites: a made-up person who types /start <code> by hand.
    const id = 900000000 + Math.floor(Math.random() * 99000000);
    return { user_id: id, first_name: "Rehearsal", role: null, code: null, started: true };
  }

  async function becomePerson(fresh) {
    generation += 1;
    version = "";
    firstView = true;
    seenToasts.clear();
    ui.log.replaceChildren();
    ui.empty.hidden = false;
    ui.empty.textContent = "Connecting…";
    const saved = fresh ? null : sessionStorage.getItem(PERSON_KEY);
    try {
      person = saved ? JSON.parse(saved) : await createPerson();
    } catch (error) {
      ui.empty.textContent = `Could not start a rehearsal: ${error.message}`;
      return;
    }
    sessionStorage.setItem(PERSON_KEY, JSON.stringify(person));
    describePerson();
    if (person.code && !person.started) {
      try {
        await act("command", { command: "start", payload: person.code });
        person.started = true;
        sessionStorage.setItem(PERSON_KEY, JSON.stringify(person));
      } catch (error) {
        showToast(`Could not send /start: ${error.message}`);
      }
    }
    poll(generation);
  }

  function describePerson() {
    const role = person.role === "professional" ? "a professional" : "a family member";
    ui.banner.textContent = person.code
      ? `Rehearsal: nothing goes to Telegram. You are ${person.first_name}, ${role}.`
      : "Sandbox chat: send /start followed by an invite code to begin.";
    ui.empty.textContent = person.code ? "Opening your invite…" : "No messages yet.";
  }

  // --- reading the chat -------------------------------------------------------------------------

  async function poll(mine) {
    let failures = 0;
    while (mine === generation) {
      try {
        const url = `api/chats/${person.user_id}?since=${encodeURIComponent(version)}&timeout=25`;
        const view = await json(url);
        if (mine !== generation) return;
        failures = 0;
        version = view.version;
        render(view);
      } catch (error) {
        failures += 1;
        ui.status.textContent = "connection lost, retrying…";
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 500 * failures)));
      }
    }
  }

  const ACTIONS = {
    typing: "typing…", record_voice: "recording a voice note…", upload_voice: "sending a voice note…",
    upload_document: "sending a file…", upload_photo: "sending a photo…",
  };

  function render(view) {
    ui.status.textContent = (view.action && ACTIONS[view.action]) || "bot";
    const focusWasIn = document.activeElement && ui.log.contains(document.activeElement)
      ? document.activeElement.closest(".row") : null;
    const nearBottom = ui.chat.scrollHeight - ui.chat.scrollTop - ui.chat.clientHeight < 120;
    const live = new Map(view.messages.map((m) => [m.id, m]));
    let lostFocus = false;
    let added = false;

    for (const node of [...ui.log.children]) {
      const message = live.get(Number(node.dataset.id));
      if (!message || Number(node.dataset.edits) !== message.edits) {
        if (node === focusWasIn) lostFocus = true;
        node.remove(); // deleted, or edited: an edited message is drawn anew (and announced)
      }
    }
    for (const message of view.messages) {
      if (ui.log.querySelector(`[data-id="${message.id}"]`)) continue;
      const node = drawMessage(message);
      const next = [...ui.log.children].find((n) => Number(n.dataset.id) > message.id);
      ui.log.insertBefore(node, next || null);
      added = true;
    }
    ui.empty.hidden = view.messages.length > 0;
    if (added && (nearBottom || firstView)) {
      ui.chat.scrollTop = ui.chat.scrollHeight;
    }
    if (lostFocus) focusLatest();
    for (const toast of view.toasts) {
      if (seenToasts.has(toast.id)) continue;
      seenToasts.add(toast.id);
      if (!firstView) showToast(toast.text, toast.alert);
    }
    firstView = false;
  }

  // A keyboard user whose button vanished (the bot edited or deleted its message) lands on the
  // newest buttons, or on the message box.
  function focusLatest() {
    const buttons = ui.log.querySelectorAll(".row.bot .kb");
    (buttons.length ? buttons[buttons.length - 1].closest(".keyboard").querySelector(".kb")
      : ui.message).focus({ preventScroll: true });
  }

  function drawMessage(message) {
    const row = document.createElement("div");
    row.className = `row ${message.from_bot ? "bot" : "me"}`;
    row.dataset.id = String(message.id);
    row.dataset.edits = String(message.edits);

    const bubble = document.createElement("div");
    bubble.className = "bubble";
    const who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = message.from_bot ? `${config.bot.name || "Bot"}: ` : "You: ";
    bubble.append(who);
    if (message.media) bubble.append(drawMedia(message));
    if (message.text) bubble.append(drawText(message.text, message.entities || []));
    if (!message.media && !message.text) bubble.append(document.createTextNode("(message)"));

    const meta = document.createElement("div");
    meta.className = "meta";
    if (message.edits > 0) meta.append(span("edited"));
    const time = document.createElement("time");
    const when = new Date(message.date * 1000);
    time.dateTime = when.toISOString();
    time.textContent = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    meta.append(time);
    bubble.append(meta);
    row.append(bubble);

    if (message.from_bot && message.buttons.length) row.append(drawKeyboard(message));
    return row;
  }

  function span(text, className) {
    const node = document.createElement("span");
    if (className) node.className = className;
    node.textContent = text;
    return node;
  }

  function drawMedia(message) {
    const box = document.createElement("div");
    box.className = "voice";
    const seconds = Number(message.media.duration || 0);
    const label = message.kind === "voice" ? "Voice note" : message.media.file_name || "Audio";
    const title = span(seconds ? `${label} · ${clock(seconds)}` : label, "media-title");
    title.prepend(micIcon());
    box.append(title);
    if (message.media.file_id && message.kind !== "document") {
      const audio = document.createElement("audio");
      audio.controls = true;
      audio.preload = "none";
      audio.src = `api/files/${encodeURIComponent(message.media.file_id)}`;
      audio.setAttribute("aria-label", "Play the voice note");
      box.append(audio);
    }
    return box;
  }

  function micIcon() {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", "M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5.3-3a5.3 " +
      "5.3 0 0 1-10.6 0H5a7 7 0 0 0 6 6.9V21h2v-3.1a7 7 0 0 0 6-6.9h-1.7z");
    svg.append(path);
    return svg;
  }

  // Telegram entities (UTF-16 offsets, as JavaScript strings count) become styled runs.
  const STYLED = new Set(["bold", "italic", "underline", "strikethrough", "code", "pre"]);

  function drawText(text, entities) {
    const node = document.createElement("div");
    node.className = "text";
    const styled = entities.filter((e) => STYLED.has(e.type));
    if (!styled.length) {
      node.textContent = text;
      return node;
    }
    const cuts = new Set([0, text.length]);
    for (const e of styled) { cuts.add(e.offset); cuts.add(e.offset + e.length); }
    const points = [...cuts].filter((p) => p >= 0 && p <= text.length).sort((a, b) => a - b);
    for (let i = 0; i + 1 < points.length; i += 1) {
      const [start, end] = [points[i], points[i + 1]];
      const types = styled.filter((e) => e.offset <= start && e.offset + e.length >= end)
        .map((e) => e.type);
      const piece = text.slice(start, end);
      if (!types.length) { node.append(document.createTextNode(piece)); continue; }
      const run = document.createElement(types.includes("code") || types.includes("pre") ? "code"
        : types.includes("bold") ? "strong" : types.includes("italic") ? "em" : "span");
      run.textContent = piece;
      run.className = types.map((t) => `e-${t}`).join(" ");
      node.append(run);
    }
    return node;
  }

  function drawKeyboard(message) {
    const keyboard = document.createElement("div");
    keyboard.className = "keyboard";
    keyboard.setAttribute("role", "group");
    keyboard.setAttribute("aria-label", "Answer buttons");
    for (const row of message.buttons) {
      const line = document.createElement("div");
      line.className = "kb-row";
      for (const button of row) {
        let node;
        if (button.url) {
          node = document.createElement("a");
          node.href = button.url;
          node.target = "_blank";
          node.rel = "noopener noreferrer";
        } else {
          node = document.createElement("button");
          node.type = "button";
          node.addEventListener("click", () => press(node, message.id, button.data));
        }
        node.className = "kb";
        node.textContent = button.text;
        line.append(node);
      }
      keyboard.append(line);
    }
    return keyboard;
  }

  // --- acting ---------------------------------------------------------------------------------

  async function press(node, messageId, data) {
    if (node.classList.contains("pending")) return;
    node.classList.add("pending");
    node.setAttribute("aria-busy", "true");
    try {
      await act("press", { message_id: messageId, data });
    } catch (error) {
      showToast(`That button did not work: ${error.message}`);
    } finally {
      setTimeout(() => {
        node.classList.remove("pending");
        node.removeAttribute("aria-busy");
      }, 1200);
    }
  }

  async function sendText(text) {
    if (!person) return;
    try {
      await act("text", { text });
    } catch (error) {
      showToast(`Not sent: ${error.message}`);
      return false;
    }
    ui.chat.scrollTop = ui.chat.scrollHeight;
    return true;
  }

  ui.form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = ui.message.value.trim();
    if (!text) return;
    ui.message.value = "";
    autosize();
    if (!(await sendText(text))) ui.message.value = text;
    ui.message.focus();
  });

  ui.message.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ui.form.requestSubmit();
    }
  });

  function autosize() {
    ui.message.style.height = "auto";
    ui.message.style.height = `${Math.min(ui.message.scrollHeight + 2, 128)}px`;
  }
  ui.message.addEventListener("input", autosize);

  // --- voice notes: recorded here, or picked from a file ----------------------------------------

  function blobToBase64(blob) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(blob);
    });
  }

  function audioDuration(blob) {
    return new Promise((resolve) => {
      const url = URL.createObjectURL(blob);
      const audio = new Audio();
      const done = (seconds) => { URL.revokeObjectURL(url); resolve(seconds); };
      const timer = setTimeout(() => done(NaN), 3000);
      audio.preload = "metadata";
      audio.onloadedmetadata = () => { clearTimeout(timer); done(audio.duration); };
      audio.onerror = () => { clearTimeout(timer); done(NaN); };
      audio.src = url;
    });
  }

  async function sendVoice(blob, seconds) {
    if (!person) return;
    // Telegram's voice notes are OGG/Opus; browsers may record WebM/Opus, which the bot reads too.
    const mime = (blob.type || "audio/ogg").split(";")[0];
    const estimate = Math.round(blob.size / 4000); // about 32 kbit/s when the length is unknown
    const duration = Math.max(1, Math.round(Number.isFinite(seconds) ? seconds : estimate));
    try {
      await act("voice", { data_b64: await blobToBase64(blob), duration, mime_type: mime });
      ui.chat.scrollTop = ui.chat.scrollHeight;
    } catch (error) {
      showToast(`The voice note was not sent: ${error.message}`);
    }
  }

  ui.attach.addEventListener("click", () => ui.file.click());
  ui.file.addEventListener("change", async () => {
    const file = ui.file.files && ui.file.files[0];
    if (!file) return;
    await sendVoice(file, await audioDuration(file));
    ui.file.value = "";
  });

  let recorder = null;
  let recordingStarted = 0;
  let recordingTimer = null;
  let cancelled = false;

  function clock(seconds) {
    const s = Math.max(0, Math.round(seconds));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }

  function recordingAvailable() {
    return Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia &&
      window.MediaRecorder);
  }

  async function startRecording() {
    if (!recordingAvailable()) {
      showToast("This browser cannot record here. Use the paperclip to send an audio file instead.");
      return;
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (error) {
      showToast("The microphone is not available. Use the paperclip to send an audio file instead.");
      return;
    }
    const type = ["audio/ogg;codecs=opus", "audio/webm;codecs=opus", "audio/webm"]
      .find((t) => MediaRecorder.isTypeSupported(t));
    const chunks = [];
    recorder = new MediaRecorder(stream, type ? { mimeType: type } : {});
    recorder.ondataavailable = (event) => { if (event.data.size) chunks.push(event.data); };
    recorder.onstop = () => {
      stream.getTracks().forEach((track) => track.stop());
      const seconds = (Date.now() - recordingStarted) / 1000;
      const mime = recorder.mimeType || type || "audio/webm";
      recorder = null;
      showRecording(false);
      if (!cancelled && chunks.length) sendVoice(new Blob(chunks, { type: mime }), seconds);
    };
    cancelled = false;
    recordingStarted = Date.now();
    recorder.start(250);
    showRecording(true);
  }

  function stopRecording(cancel) {
    if (!recorder) return;
    cancelled = cancel;
    recorder.stop();
  }

  function showRecording(on) {
    ui.recording.hidden = !on;
    ui.record.setAttribute("aria-pressed", String(on));
    ui.record.setAttribute("aria-label", on ? "Stop and send the voice note" : "Record a voice note");
    clearInterval(recordingTimer);
    if (on) {
      const tick = () => {
        ui.recordingText.textContent =
          `Recording ${clock((Date.now() - recordingStarted) / 1000)}: tap the red button to send`;
      };
      tick();
      recordingTimer = setInterval(tick, 500);
    }
  }

  ui.record.addEventListener("click", () => (recorder ? stopRecording(false) : startRecording()));
  ui.cancelRecording.addEventListener("click", () => { stopRecording(true); ui.record.focus(); });
  if (!recordingAvailable()) {
    ui.record.title = "Recording is not available in this browser; use the paperclip to send an audio file.";
  }

  // --- the menu of the bot's commands -------------------------------------------------------------

  async function openMenu() {
    await loadConfig(); // the bot sets its commands when it starts: ask again
    ui.menuList.replaceChildren();
    const commands = config.commands.length ? config.commands
      : [{ command: "help", description: "How this works, and support" }];
    for (const { command, description } of commands) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.append(span(`/${command}`, "cmd"), span(description || "", "desc"));
      button.addEventListener("click", () => { closeMenu(); sendText(`/${command}`); });
      item.append(button);
      ui.menuList.append(item);
    }
    ui.menu.hidden = false;
    ui.menuButton.setAttribute("aria-expanded", "true");
    const first = ui.menuList.querySelector("button");
    if (first) first.focus();
  }

  function closeMenu(returnFocus) {
    if (ui.menu.hidden) return;
    ui.menu.hidden = true;
    ui.menuButton.setAttribute("aria-expanded", "false");
    if (returnFocus) ui.menuButton.focus();
  }

  ui.menuButton.addEventListener("click", () => (ui.menu.hidden ? openMenu() : closeMenu(true)));
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    if (!ui.menu.hidden) closeMenu(true);
    else if (recorder) stopRecording(true);
  });
  document.addEventListener("click", (event) => {
    if (!ui.menu.hidden && !ui.menu.contains(event.target) && event.target !== ui.menuButton) {
      closeMenu(false);
    }
  });

  // --- toasts (the bot's answers to button presses) ---------------------------------------------

  let toastTimer = null;
  function showToast(text, long) {
    ui.toast.textContent = text;
    ui.toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { ui.toast.hidden = true; }, long ? 6000 : 3500);
  }

  ui.newPerson.addEventListener("click", () => {
    sessionStorage.removeItem(PERSON_KEY);
    becomePerson(true);
  });

  (async () => {
    await loadConfig();
    await becomePerson(false);
  })();
})();
