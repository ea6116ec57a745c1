/*
 * Sales-coach chat widget. Embed with one script tag and a config object:
 *
 *   <script>window.SalesCoachConfig = { socketUrl: "https://coach.example.com", token: "<JWT from your server>" };</script>
 *   <script src="https://coach.example.com/widget.js" defer></script>
 *
 * Talks to Rasa's socket.io channel with socket.io-client 4.x (loaded from the
 * same origin as this file). Text is always inserted as text, never as HTML.
 */
(function () {
  "use strict";
  var cfg = Object.assign({ socketUrl: "", socketPath: "/socket.io/", token: null, inline: false, open: false,
                            storageKey: "sales-coach" }, window.SalesCoachConfig || {});
  var zh = /^zh/i.test(cfg.lang || navigator.language || "");
  var T = zh ? { title: "大客户销售教练", placeholder: "输入消息…", send: "发送", typing: "教练正在输入…",
                 offline: "连接中断，正在重连…", online: "已连接", open: "问教练" }
             : { title: "Sales coach", placeholder: "Type a message…", send: "Send", typing: "Coach is typing…",
                 offline: "Connection lost, reconnecting…", online: "Connected", open: "Ask the coach" };

  var scriptBase = (function () {
    var s = document.currentScript && document.currentScript.src;
    return s ? s.replace(/\/[^\/]*$/, "") : "";
  })();

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  var css = "" +
    ".scw{font-family:system-ui,-apple-system,'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',sans-serif;font-size:14px;color:#1d2330}" +
    ".scw-panel{display:flex;flex-direction:column;background:#fff;border:1px solid #d8dce3;border-radius:12px;box-shadow:0 8px 28px rgba(0,0,0,.12);overflow:hidden}" +
    ".scw-float .scw-panel{position:fixed;right:20px;bottom:84px;width:380px;height:560px;z-index:99999}" +
    ".scw-inline .scw-panel{margin:16px 32px;max-width:760px;height:70vh}" +
    ".scw-head{background:#1f4e79;color:#fff;padding:10px 14px;font-weight:600;display:flex;justify-content:space-between}" +
    ".scw-status{font-weight:400;font-size:12px;opacity:.85}" +
    ".scw-log{flex:1;overflow-y:auto;padding:12px;background:#f7f8fa}" +
    ".scw-msg{max-width:85%;margin:6px 0;padding:8px 11px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word;line-height:1.45}" +
    ".scw-user{margin-left:auto;background:#1f4e79;color:#fff}" +
    ".scw-bot{background:#fff;border:1px solid #e1e4ea}" +
    ".scw-img{max-width:100%;border-radius:6px;display:block}" +
    ".scw-buttons{display:flex;flex-wrap:wrap;gap:6px;margin:4px 0 8px}" +
    ".scw-btn{border:1px solid #1f4e79;color:#1f4e79;background:#fff;border-radius:14px;padding:4px 10px;cursor:pointer;font:inherit}" +
    ".scw-btn:hover{background:#eaf1f8}" +
    ".scw-typing{font-size:12px;color:#6b7485;padding:0 12px 6px;min-height:16px}" +
    ".scw-form{display:flex;border-top:1px solid #e1e4ea}" +
    ".scw-input{flex:1;border:0;padding:12px;font:inherit;outline:none}" +
    ".scw-send{border:0;background:#1f4e79;color:#fff;padding:0 16px;font:inherit;cursor:pointer}" +
    ".scw-launch{position:fixed;right:20px;bottom:20px;z-index:99999;border:0;border-radius:24px;background:#1f4e79;color:#fff;padding:12px 18px;font:inherit;cursor:pointer}";

  function start(io) {
    var style = el("style"); style.textContent = css; document.head.appendChild(style);
    var root = el("div", "scw " + (cfg.inline ? "scw-inline" : "scw-float"));
    var panel = el("div", "scw-panel");
    var head = el("div", "scw-head"); head.appendChild(el("span", null, cfg.title || T.title));
    var status = el("span", "scw-status", ""); head.appendChild(status);
    var log = el("div", "scw-log"); log.setAttribute("aria-live", "polite");
    var typing = el("div", "scw-typing", "");
    var form = el("form", "scw-form");
    var input = el("input", "scw-input"); input.placeholder = T.placeholder; input.setAttribute("aria-label", T.placeholder);
    input.maxLength = 4000;
    var send = el("button", "scw-send", T.send); send.type = "submit";
    form.appendChild(input); form.appendChild(send);
    panel.appendChild(head); panel.appendChild(log); panel.appendChild(typing); panel.appendChild(form);
    root.appendChild(panel);
    document.body.appendChild(root);
    if (!cfg.inline) {
      var launch = el("button", "scw-launch", T.open);
      panel.style.display = cfg.open ? "flex" : "none";
      launch.onclick = function () { panel.style.display = panel.style.display === "none" ? "flex" : "none"; input.focus(); };
      document.body.appendChild(launch);
    }

    // Conversation kept across page reloads: session id and transcript in localStorage.
    var key = cfg.storageKey + (cfg.token ? ":auth" : ":anon");
    var state = {};
    try { state = JSON.parse(localStorage.getItem(key) || "{}"); } catch (e) { state = {}; }
    if (!state.sessionId) state.sessionId = (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2));
    state.history = state.history || [];
    function save() {
      state.history = state.history.slice(-200);
      try { localStorage.setItem(key, JSON.stringify(state)); } catch (e) { /* storage full or disabled */ }
    }

    function scroll() { log.scrollTop = log.scrollHeight; }
    function safeImage(src) { return /^(https?:\/\/|\/|data:image\/(png|jpeg|gif|webp);base64,)/i.test(src || ""); }

    function render(item) {
      if (item.kind === "user") { log.appendChild(el("div", "scw-msg scw-user", item.text)); }
      else if (item.kind === "bot") {
        if (item.text) log.appendChild(el("div", "scw-msg scw-bot", item.text));
        if (item.image && safeImage(item.image)) {
          var box = el("div", "scw-msg scw-bot"); var img = el("img", "scw-img");
          img.alt = item.alt || ""; img.src = item.image; img.onload = scroll; box.appendChild(img); log.appendChild(box);
        }
        if (item.buttons && item.buttons.length && item.live) {
          var row = el("div", "scw-buttons");
          item.buttons.slice(0, 10).forEach(function (b) {
            var btn = el("button", "scw-btn", b.title); btn.type = "button";
            btn.onclick = function () { row.remove(); sendMessage(b.title, b.payload); };
            row.appendChild(btn);
          });
          log.appendChild(row);
        }
      }
      scroll();
    }
    state.history.forEach(function (item) { render(Object.assign({}, item, { live: false })); });

    var socket = io(cfg.socketUrl || undefined, {
      path: cfg.socketPath, transports: ["websocket", "polling"],
      auth: cfg.token ? { token: cfg.token } : undefined, reconnection: true
    });
    var typingTimer = null;
    function setTyping(on) {
      typing.textContent = on ? T.typing : "";
      clearTimeout(typingTimer);
      if (on) typingTimer = setTimeout(function () { typing.textContent = ""; }, 20000);
    }
    socket.on("connect", function () {
      status.textContent = T.online;
      socket.emit("session_request", { session_id: state.sessionId });
    });
    socket.on("session_confirm", function (sessionId) {
      if (sessionId && typeof sessionId === "string") { state.sessionId = sessionId; save(); }
    });
    socket.on("disconnect", function () { status.textContent = T.offline; });
    socket.on("connect_error", function () { status.textContent = T.offline; });
    socket.on("bot_uttered", function (msg) {
      setTyping(false);
      msg = msg || {};
      var item = { kind: "bot", text: typeof msg.text === "string" ? msg.text : "" };
      if (msg.attachment && msg.attachment.type === "image" && msg.attachment.payload) item.image = msg.attachment.payload.src;
      var buttons = msg.quick_replies || msg.buttons;
      if (Array.isArray(buttons)) item.buttons = buttons.map(function (b) { return { title: String(b.title), payload: String(b.payload) }; });
      state.history.push(item); save();
      render(Object.assign({}, item, { live: true }));
    });

    function sendMessage(display, payload) {
      var text = (payload || display || "").trim();
      if (!text) return;
      var item = { kind: "user", text: display };
      state.history.push(item); save(); render(item);
      socket.emit("user_uttered", { message: text, session_id: state.sessionId });
      setTyping(true);
    }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var text = input.value; input.value = "";
      sendMessage(text, null);
    });
    window.SalesCoachWidget = { send: function (t) { sendMessage(t, null); }, socket: socket, state: state };
  }

  function boot() {
    if (window.io) return start(window.io);
    var s = document.createElement("script");
    s.src = (cfg.assetBase || scriptBase) + "/vendor/socket.io.min.js";
    s.onload = function () { start(window.io); };
    document.head.appendChild(s);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot); else boot();
})();
