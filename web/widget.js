/*
 * Sales-coach chat widget: one script tag plus a config object.
 *
 *   <script src="https://coach.example.com/widget.js"></script>
 *   <script>
 *     SalesCoachWidget.init({
 *       socketUrl: "https://coach.example.com",   // the Rasa server (socket.io channel "web")
 *       token: "<JWT minted by your server>",     // or getToken: () => fetch(...).then(...)
 *       lang: "zh-CN"                             // optional; default: the browser's language
 *     });
 *   </script>
 *
 * Talks to the Rasa server with socket.io-client 4.x (loaded from the same place as
 * this file, /vendor/socket.io.min.js). Message text is only ever inserted as text
 * (textContent), never as HTML. The conversation (session id + recent messages) is
 * kept in localStorage, separately for each signed-in user, so a reload resumes it.
 * See docs/channels-web.md.
 */
(function () {
  "use strict";
  if (window.SalesCoachWidget && window.SalesCoachWidget.version) return;  // loaded twice
  var VERSION = "1.0.0";

  var STRINGS = {
    "en": {
      title: "Sales coach", subtitle: "Key accounts · practice · coaching", placeholder: "Type a message…",
      send: "Send", typing: "Coach is typing", connecting: "Connecting…", online: "Online",
      offline: "Offline, reconnecting…", refused: "Not signed in or sign-in expired: reload the page",
      open: "Ask the coach", close: "Close", image: "Chart from the coach", log: "Conversation with the sales coach",
      empty: "Tell me about your accounts and the people in them, or ask “what can you do?”"
    },
    "zh-Hans": {
      title: "大客户销售教练", subtitle: "客户 · 练习 · 辅导", placeholder: "输入消息…",
      send: "发送", typing: "教练正在输入", connecting: "正在连接…", online: "在线",
      offline: "连接中断，正在重连…", refused: "未登录或登录已过期，请刷新页面",
      open: "问教练", close: "关闭", image: "教练发来的图表", log: "与销售教练的对话",
      empty: "告诉我你的客户和关键人，或者问“你能做什么”。"
    },
    "zh-Hant": {
      title: "大客戶銷售教練", subtitle: "客戶 · 練習 · 輔導", placeholder: "輸入訊息…",
      send: "傳送", typing: "教練正在輸入", connecting: "正在連線…", online: "線上",
      offline: "連線中斷，正在重新連線…", refused: "未登入或登入已過期，請重新整理頁面",
      open: "問教練", close: "關閉", image: "教練傳來的圖表", log: "與銷售教練的對話",
      empty: "告訴我你的客戶和關鍵人，或者問「你能做什麼」。"
    }
  };

  function pickLocale(lang) {
    var l = String(lang || "").toLowerCase().replace(/_/g, "-");
    if (/^zh-(tw|hk|mo|hant)/.test(l)) return "zh-Hant";
    if (/^zh/.test(l)) return "zh-Hans";
    return "en";
  }

  var currentScript = document.currentScript;
  var scriptBase = currentScript && currentScript.src ? currentScript.src.replace(/\/[^\/?#]*(?:[?#].*)?$/, "") : "";

  var CSS = "" +
    ":host{all:initial;font-family:system-ui,-apple-system,'Segoe UI','PingFang SC','PingFang TC','Microsoft YaHei'," +
    "'Noto Sans CJK SC','Noto Sans CJK TC',sans-serif;font-size:14px;line-height:1.5;color:#1d2330}" +
    "*{box-sizing:border-box}" +
    ".panel{display:flex;flex-direction:column;background:#fff;border:1px solid #d8dce3;border-radius:14px;" +
    "box-shadow:0 10px 30px rgba(16,24,40,.14);overflow:hidden;height:100%}" +
    ".float .panel{position:fixed;right:20px;bottom:88px;width:380px;height:580px;max-height:calc(100vh - 110px);" +
    "max-width:calc(100vw - 24px);z-index:2147483000}" +
    ".inline{display:block;height:100%}.inline .panel{min-height:420px}" +
    ".head{background:linear-gradient(135deg,#1f4e79,#2d6aa3);color:#fff;padding:12px 14px;display:flex;align-items:center;gap:10px}" +
    ".avatar{width:34px;height:34px;border-radius:50%;background:rgba(255,255,255,.18);display:flex;align-items:center;" +
    "justify-content:center;font-weight:700;font-size:15px;flex:none}" +
    ".titles{flex:1;min-width:0}.title{font-weight:650;font-size:15px}" +
    ".status{font-size:12px;opacity:.9;display:flex;align-items:center;gap:6px}" +
    ".dot{width:8px;height:8px;border-radius:50%;background:#f5b942}" +
    ".status.online .dot{background:#3ddc84}.status.refused .dot{background:#ff6b6b}" +
    ".close{border:0;background:transparent;color:#fff;font-size:22px;line-height:1;cursor:pointer;padding:2px 6px}" +
    ".log{flex:1;overflow-y:auto;padding:14px 12px;background:#f5f7fa;display:flex;flex-direction:column;gap:4px}" +
    ".empty{color:#6b7485;text-align:center;margin:auto 18px;font-size:13px}" +
    ".msg{max-width:86%;padding:8px 12px;border-radius:14px;white-space:pre-wrap;overflow-wrap:anywhere;margin:2px 0}" +
    ".user{align-self:flex-end;background:#1f4e79;color:#fff;border-bottom-right-radius:4px}" +
    ".bot{align-self:flex-start;background:#fff;border:1px solid #e1e4ea;border-bottom-left-radius:4px}" +
    ".bot.image{padding:4px}.bot.image a{display:block}" +
    ".bot img{display:block;max-width:100%;max-height:320px;border-radius:10px}" +
    ".replies{display:flex;flex-wrap:wrap;gap:6px;margin:2px 0 6px;align-self:flex-start;max-width:92%}" +
    ".reply{border:1px solid #2d6aa3;color:#1f4e79;background:#fff;border-radius:16px;padding:5px 12px;cursor:pointer;" +
    "font:inherit;font-size:13px}" +
    ".reply:hover{background:#eaf1f8}.reply:focus-visible{outline:2px solid #2d6aa3;outline-offset:1px}" +
    ".replies.used .reply{opacity:.45;cursor:default;background:#fff}" +
    ".typing{align-self:flex-start;background:#fff;border:1px solid #e1e4ea;border-radius:14px;padding:10px 14px;" +
    "display:none;gap:4px;margin:2px 0}" +
    ".typing.on{display:flex}" +
    ".typing i{width:7px;height:7px;border-radius:50%;background:#9aa3b2;animation:scw-b 1.2s infinite ease-in-out}" +
    ".typing i:nth-child(2){animation-delay:.15s}.typing i:nth-child(3){animation-delay:.3s}" +
    "@keyframes scw-b{0%,60%,100%{transform:translateY(0);opacity:.5}30%{transform:translateY(-4px);opacity:1}}" +
    ".form{display:flex;align-items:flex-end;gap:8px;border-top:1px solid #e1e4ea;padding:10px;background:#fff}" +
    ".input{flex:1;border:1px solid #d8dce3;border-radius:10px;padding:8px 10px;font:inherit;resize:none;outline:none;" +
    "max-height:120px;min-height:38px;line-height:1.4;color:inherit;background:#fff}" +
    ".input:focus{border-color:#2d6aa3;box-shadow:0 0 0 3px rgba(45,106,163,.15)}" +
    ".send{border:0;border-radius:10px;background:#1f4e79;color:#fff;padding:0 16px;height:38px;font:inherit;" +
    "font-weight:600;cursor:pointer}.send:hover{background:#2d6aa3}" +
    ".launch{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:26px;background:#1f4e79;" +
    "color:#fff;padding:13px 20px;font:inherit;font-weight:600;cursor:pointer;box-shadow:0 6px 18px rgba(16,24,40,.25)}";

  var ioPromise = null;
  function loadSocketIo(base) {
    if (window.io && typeof window.io === "function") return Promise.resolve(window.io);
    if (ioPromise) return ioPromise;
    ioPromise = new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = base + "/vendor/socket.io.min.js";
      s.async = true;
      s.onload = function () { window.io ? resolve(window.io) : reject(new Error("socket.io failed to load")); };
      s.onerror = function () { ioPromise = null; reject(new Error("socket.io failed to load")); };
      document.head.appendChild(s);
    });
    return ioPromise;
  }

  function pickStorage(kind) {
    try {
      var s = kind === "session" ? window.sessionStorage : window.localStorage;
      s.setItem("scw-probe", "1"); s.removeItem("scw-probe");
      return s;
    } catch (e) { return null; }
  }

  // Who the token is for, only to keep each user's transcript apart in this browser
  // (the server verifies the token; nothing here is trusted).
  function tokenOwner(token) {
    try {
      var p = String(token).split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      while (p.length % 4) p += "=";
      var bytes = Uint8Array.from(atob(p), function (c) { return c.charCodeAt(0); });
      var claims = JSON.parse(new TextDecoder().decode(bytes));
      return "u:" + (claims.iss || "") + "/" + (claims.team || "") + "/" + (claims.sub || "");
    } catch (e) { return "u:?"; }
  }

  function safeImageUrl(src) {
    if (typeof src !== "string" || !src) return null;
    if (/^data:image\/(png|jpe?g|gif|webp);base64,[a-z0-9+\/=\s]+$/i.test(src)) return src;
    try {
      var u = new URL(src, window.location.href);
      return (u.protocol === "https:" || u.protocol === "http:") ? u.href : null;
    } catch (e) { return null; }
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  }

  function resolveContainer(c) {
    if (!c) return null;
    if (typeof c === "string") return document.querySelector(c);
    return c.nodeType === 1 ? c : null;
  }

  function init(options) {
    var cfg = Object.assign({
      socketUrl: "", socketPath: "/socket.io/", token: null, getToken: null, lang: null,
      container: null, inline: false, open: false, title: null, storage: "local", storageKey: "sales-coach",
      historyLimit: 100, assetBase: null, userEvent: "user_uttered", botEvent: "bot_uttered",
      transports: null, metadata: null
    }, options || {});
    var locale = pickLocale(cfg.lang || (navigator.languages && navigator.languages[0]) || navigator.language);
    var T = STRINGS[locale];
    var htmlLang = locale === "zh-Hant" ? "zh-TW" : locale === "zh-Hans" ? "zh-CN" : "en";
    var container = resolveContainer(cfg.container);
    var inline = !!(container || cfg.inline);

    // ---- DOM (inside a shadow root, so the host page's CSS and ours stay apart)
    var host = el("div");
    host.className = "sales-coach-widget";
    host.setAttribute("lang", htmlLang);
    var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    var style = el("style"); style.textContent = CSS; root.appendChild(style);
    var frame = el("div", inline ? "inline" : "float");
    var panel = el("section", "panel"); panel.setAttribute("aria-label", cfg.title || T.title);
    var head = el("div", "head");
    head.appendChild(el("div", "avatar", locale === "en" ? "SC" : "教"));
    var titles = el("div", "titles");
    titles.appendChild(el("div", "title", cfg.title || T.title));
    var status = el("div", "status"); status.appendChild(el("span", "dot"));
    var statusText = el("span", "status-text", T.connecting); status.appendChild(statusText);
    titles.appendChild(status); head.appendChild(titles);
    var log = el("div", "log");
    log.setAttribute("role", "log"); log.setAttribute("aria-live", "polite"); log.setAttribute("aria-label", T.log);
    var empty = el("div", "empty", T.empty);
    var typing = el("div", "typing"); typing.setAttribute("aria-label", T.typing); typing.setAttribute("role", "status");
    typing.appendChild(el("i")); typing.appendChild(el("i")); typing.appendChild(el("i"));
    var form = el("form", "form");
    var input = el("textarea", "input");
    input.rows = 1; input.maxLength = 4000; input.placeholder = T.placeholder; input.setAttribute("aria-label", T.placeholder);
    var sendBtn = el("button", "send", T.send); sendBtn.type = "submit";
    form.appendChild(input); form.appendChild(sendBtn);
    panel.appendChild(head); panel.appendChild(log); panel.appendChild(form);
    frame.appendChild(panel); root.appendChild(frame);
    var launch = null;
    if (!inline) {
      var closeBtn = el("button", "close", "×"); closeBtn.type = "button"; closeBtn.setAttribute("aria-label", T.close);
      head.appendChild(closeBtn);
      launch = el("button", "launch", T.open); launch.type = "button";
      root.appendChild(launch);
      var setOpen = function (open) {
        panel.style.display = open ? "flex" : "none";
        launch.setAttribute("aria-expanded", String(open));
        if (open) { scrollDown(); input.focus(); }
      };
      launch.addEventListener("click", function () { setOpen(panel.style.display === "none"); });
      closeBtn.addEventListener("click", function () { setOpen(false); });
      setOpen(!!cfg.open);
    }
    (container || document.body).appendChild(host);

    // ---- state kept across reloads
    var storage = pickStorage(cfg.storage);
    var storageName = null;
    var state = { v: 1, sessionId: null, history: [] };
    function load(owner) {
      storageName = cfg.storageKey + ":" + owner;
      try {
        var saved = storage && JSON.parse(storage.getItem(storageName) || "null");
        if (saved && saved.v === 1 && Array.isArray(saved.history)) state = saved;
      } catch (e) { /* corrupt: start over */ }
    }
    function save() {
      if (state.history.length > cfg.historyLimit) state.history = state.history.slice(-cfg.historyLimit);
      try { if (storage && storageName) storage.setItem(storageName, JSON.stringify(state)); } catch (e) { /* full */ }
    }

    // ---- rendering (text only ever via textContent)
    function scrollDown() { log.scrollTop = log.scrollHeight; }
    function showEmpty() {
      if (!log.querySelector(".msg") && !empty.parentNode) log.insertBefore(empty, log.firstChild);
      if (log.querySelector(".msg") && empty.parentNode) empty.remove();
    }
    function retireReplies() {
      Array.prototype.forEach.call(log.querySelectorAll(".replies:not(.used)"), function (row) {
        row.classList.add("used");
        Array.prototype.forEach.call(row.querySelectorAll("button"), function (b) { b.disabled = true; });
      });
    }
    function render(item, live) {
      if (item.from === "user") {
        log.insertBefore(el("div", "msg user", item.text), typing);
      } else {
        if (item.text) log.insertBefore(el("div", "msg bot", item.text), typing);
        var src = safeImageUrl(item.image);
        if (src) {
          var box = el("div", "msg bot image");
          var link = el("a"); link.href = src; link.target = "_blank"; link.rel = "noopener noreferrer";
          var img = el("img"); img.alt = item.alt || T.image; img.loading = "lazy";
          img.addEventListener("load", scrollDown);
          img.src = src;
          link.appendChild(img); box.appendChild(link);
          log.insertBefore(box, typing);
        }
        if (item.buttons && item.buttons.length) {
          var row = el("div", "replies");
          item.buttons.slice(0, 12).forEach(function (b) {
            var btn = el("button", "reply", b.title); btn.type = "button";
            btn.addEventListener("click", function () {
              if (row.classList.contains("used")) return;
              sendMessage(b.title, b.payload);
            });
            row.appendChild(btn);
          });
          log.insertBefore(row, typing);
          if (!live) { row.classList.add("used"); row.querySelectorAll("button").forEach(function (x) { x.disabled = true; }); }
        }
      }
      showEmpty();
      scrollDown();
    }
    function renderAll() {
      Array.prototype.slice.call(log.childNodes).forEach(function (n) { if (n !== typing) n.remove(); });
      if (!typing.parentNode) log.appendChild(typing);
      var last = state.history.length - 1;
      state.history.forEach(function (item, i) { render(item, i === last && item.from === "bot"); });
      showEmpty();
    }

    var typingTimer = null;
    function setTyping(on) {
      typing.classList.toggle("on", !!on);
      clearTimeout(typingTimer);
      if (on) { typingTimer = setTimeout(function () { typing.classList.remove("on"); }, 30000); scrollDown(); }
    }
    function setStatus(kind) {
      status.className = "status " + kind;
      statusText.textContent = T[kind] || "";
    }

    // ---- messages
    var socket = null;
    function sendMessage(display, payload) {
      var text = String(payload != null ? payload : display || "");
      if (!text.trim()) return;
      retireReplies();
      var item = { from: "user", text: String(display) };
      state.history.push(item); save(); render(item, true);
      var data = { message: text, session_id: state.sessionId };
      if (cfg.metadata && typeof cfg.metadata === "object") data.metadata = cfg.metadata;
      if (socket) socket.emit(cfg.userEvent, data);
      setTyping(true);
    }
    function onBotMessage(msg) {
      setTyping(false);
      if (!msg || typeof msg !== "object") return;
      var item = { from: "bot" };
      if (typeof msg.text === "string" && msg.text) item.text = msg.text;
      var att = msg.attachment;
      var image = att && att.type === "image" && att.payload ? att.payload.src : msg.image;
      if (safeImageUrl(image)) item.image = image;  // http(s), relative or data:image only
      var buttons = Array.isArray(msg.quick_replies) && msg.quick_replies.length ? msg.quick_replies : msg.buttons;
      if (Array.isArray(buttons)) {
        item.buttons = buttons.filter(function (b) { return b && b.title != null; })
          .map(function (b) { return { title: String(b.title), payload: String(b.payload != null ? b.payload : b.title) }; });
        if (!item.buttons.length) delete item.buttons;
      }
      if (!item.text && !item.image && !item.buttons) return;
      if (item.buttons) retireReplies();
      state.history.push(item); save(); render(item, true);
    }

    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var text = input.value;
      input.value = ""; input.style.height = "";
      sendMessage(text, null);
      input.focus();
    });
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); form.requestSubmit ? form.requestSubmit() : sendBtn.click(); }
    });
    input.addEventListener("input", function () {
      input.style.height = "auto"; input.style.height = Math.min(input.scrollHeight, 120) + "px";
    });

    // ---- connection
    function currentToken() {
      if (typeof cfg.getToken === "function") {
        try { return Promise.resolve(cfg.getToken()); } catch (e) { return Promise.reject(e); }
      }
      return Promise.resolve(cfg.token || null);
    }

    var refusedRetries = 0;
    var instance = { version: VERSION, element: host, state: function () { return state; }, socket: null,
                     send: function (t) { sendMessage(t, null); }, destroy: destroy, locale: locale };

    function connect(io) {
      var opts = {
        path: cfg.socketPath, reconnection: true, reconnectionDelay: 1000, reconnectionDelayMax: 30000,
        randomizationFactor: 0.5, timeout: 20000,
        // Called on every (re)connection, so a token provider can hand out a fresh token.
        auth: function (cb) {
          currentToken().then(null, function () { return null; }).then(function (t) {
            cb(t ? { token: String(t) } : (state.sessionId ? { session_id: state.sessionId } : {}));
          });
        }
      };
      if (cfg.transports) opts.transports = cfg.transports;
      socket = io(cfg.socketUrl || undefined, opts);
      instance.socket = socket;
      socket.on("connect", function () {
        refusedRetries = 0;
        setStatus("online");
        socket.emit("session_request", { session_id: state.sessionId });
      });
      socket.on("session_confirm", function (sessionId) {
        if (typeof sessionId !== "string" || !sessionId) return;
        if (state.sessionId && state.sessionId !== sessionId) {
          // The server did not resume the stored conversation: start a clean transcript.
          state.history = [];
          renderAll();
        }
        state.sessionId = sessionId; save();
      });
      socket.on("disconnect", function () { setStatus("offline"); setTyping(false); });
      socket.on("connect_error", function () {
        setTyping(false);
        if (socket.active) { setStatus("offline"); return; }  // the client retries with backoff
        // Refused by the server (bad/expired token): with a token provider, ask again, with backoff.
        if (typeof cfg.getToken === "function" && refusedRetries < 5) {
          setStatus("offline");
          var delay = Math.min(30000, 1000 * Math.pow(2, refusedRetries++)) * (0.75 + Math.random() / 2);
          setTimeout(function () { if (socket) socket.connect(); }, delay);
        } else {
          setStatus("refused");
        }
      });
      socket.on(cfg.botEvent, onBotMessage);
    }

    function destroy() {
      if (socket) { socket.off(); socket.disconnect(); socket = null; }
      host.remove();
    }

    setStatus("connecting");
    renderAll();
    var base = (cfg.assetBase || scriptBase || "").replace(/\/$/, "");
    currentToken().then(null, function () { return null; }).then(function (token) {
      load(token ? tokenOwner(token) : "anon");
      renderAll();
      return loadSocketIo(base).then(connect);
    }).catch(function (e) {
      setStatus("refused");
      if (window.console) console.error("sales-coach widget:", e);
    });
    return instance;
  }

  window.SalesCoachWidget = { version: VERSION, init: init, pickLocale: pickLocale };

  // Auto-start for pages that set window.SalesCoachConfig before loading this script.
  if (window.SalesCoachConfig && typeof window.SalesCoachConfig === "object") {
    var auto = window.SalesCoachConfig;
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { init(auto); });
    else init(auto);
  }
})();
