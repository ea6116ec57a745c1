"""The web widget in a real headless Chromium against the real servers.

Action server + Rasa (trained model, `web` channel from credentials.yml, `--cors` as in
scripts/run.sh) + `python -m bot.webpage`, all started once (see conftest.py). Each
test gets fresh browser contexts, so storage and cookies never leak between tests.
Set UPDATE_SCREENSHOTS=1 to refresh docs/img/widget-en.png and widget-zh.png.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import WebServers
from tests.servers import REPO, http_json

pytestmark = [pytest.mark.slow, pytest.mark.model]
REPLY_TIMEOUT_MS = 90_000
expect.set_options(timeout=REPLY_TIMEOUT_MS)


# --------------------------------------------------------------------------- helpers


def new_context(browser: Browser, locale: str = "en-US", height: int = 760, **kwargs: Any) -> BrowserContext:
    return browser.new_context(locale=locale, viewport={"width": 1060, "height": height}, **kwargs)


def open_chat(context: BrowserContext, servers: WebServers, query: str = "", page: Page | None = None) -> Page:
    page = page or context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))  # type: ignore[attr-defined]
    page.goto(f"{servers.web_url}/{query}")
    expect(page.locator(".status.online")).to_be_visible()
    return page


def bot_texts(page: Page) -> list[str]:
    return page.locator(".msg.bot").all_inner_texts()


def wait_for_replies(page: Page, before: int, settle: float = 1.2) -> list[str]:
    """Waits for the bot's next message(s) and until no more arrive for `settle` seconds."""
    page.wait_for_function(
        "n => document.querySelector('.sales-coach-widget').shadowRoot.querySelectorAll('.msg.bot').length > n",
        arg=before, timeout=REPLY_TIMEOUT_MS)
    count, stable_since = -1, time.time()
    while time.time() - stable_since < settle:
        now = page.locator(".msg.bot").count()
        if now != count:
            count, stable_since = now, time.time()
        time.sleep(0.2)
    return bot_texts(page)[before:]


def say(page: Page, text: str) -> list[str]:
    """Types `text` into the widget, sends it with Enter and returns the bot's new messages."""
    before = page.locator(".msg.bot").count()
    box = page.locator("textarea.input")
    box.fill(text)
    box.press("Enter")
    expect(page.locator(".msg.user").last).to_have_text(text)
    return wait_for_replies(page, before)


def session_id(page: Page) -> str:
    """The session id the server confirmed (it arrives just after the status turns online)."""
    page.wait_for_function("window.demoWidget.state().sessionId", timeout=10_000)
    return page.evaluate("window.demoWidget.state().sessionId")


def sender_of(page: Page) -> str:
    """The conversation id the server gave this page (anonymous: web-anon:<nonce>)."""
    sid = session_id(page)
    return sid if sid.startswith("web:") else "web-anon:" + sid.split(".", 1)[0]


def bot_says(servers: WebServers, sender: str, message: dict[str, Any]) -> None:
    """Makes Rasa send a bot message to the conversation's latest channel (as actions' messages go)."""
    text = message.pop("text", None)
    event = {"event": "bot", "text": text, "data": message, "timestamp": time.time()}
    url = (f"{servers.rasa_url}/conversations/{urllib.parse.quote(sender, safe=':@')}/tracker/events"
           "?execute_side_effects=true&output_channel=latest")
    http_json("POST", url, [event], headers={"Authorization": f"Bearer {servers.api_token}"})


def png_bytes(width: int, height: int) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), "#eaf1f8")
    ImageDraw.Draw(image).rectangle([8, 8, width - 8, height - 8], outline="#1f4e79", width=4)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def list_accounts(page: Page) -> str:
    replies = say(page, "list my accounts")
    text = "\n".join(replies)
    assert "accounts" in text.lower(), text
    return text


# --------------------------------------------------------------------------- conversations


def test_english_and_chinese_messages_get_replies(browser: Browser, web_servers: WebServers) -> None:
    context = new_context(browser)
    page = open_chat(context, web_servers)
    expect(page.locator("button.send")).to_have_text("Send")
    assert "Saved: new account Globex Corporation." in say(page, "Add account Globex Corporation")
    assert "已保存：新客户 华东精密。" in say(page, "新建客户华东精密")
    assert page.errors == []  # type: ignore[attr-defined]
    context.close()


@pytest.mark.parametrize("locale, send, placeholder", [
    ("en-GB", "Send", "Type a message…"),
    ("zh-CN", "发送", "输入消息…"),
    ("zh-TW", "傳送", "輸入訊息…"),
    ("zh-HK", "傳送", "輸入訊息…"),
])
def test_ui_strings_follow_the_browser_language(browser: Browser, web_servers: WebServers, locale: str, send: str,
                                                placeholder: str) -> None:
    context = new_context(browser, locale=locale)
    page = open_chat(context, web_servers)
    expect(page.locator("button.send")).to_have_text(send)
    expect(page.locator("textarea.input")).to_have_attribute("placeholder", placeholder)
    context.close()


def test_quick_reply_button_sends_its_payload_and_shows_its_title(browser: Browser,
                                                                  web_servers: WebServers) -> None:
    context = new_context(browser)
    page = open_chat(context, web_servers)
    say(page, "let's practise")
    buttons = page.locator(".replies:not(.used) button.reply")
    expect(buttons).to_have_count(6)
    title = buttons.first.inner_text()
    assert title == "Plant director: the peak-season bottleneck"
    before = page.locator(".msg.bot").count()
    buttons.first.click()
    expect(page.locator(".msg.user").last).to_have_text(title)  # the title, not the /start_roleplay payload
    replies = wait_for_replies(page, before)
    assert any(r.startswith("Practice started") and title in r for r in replies), replies
    expect(page.locator(".replies:not(.used)")).to_have_count(0)  # answered buttons are retired
    tracker = web_servers.tracker(sender_of(page))
    user_events = [e for e in tracker["events"] if e["event"] == "user"]
    assert user_events[-1]["parse_data"]["intent"]["name"] == "start_roleplay"
    assert user_events[-1]["input_channel"] == "web"
    say(page, "end practice")
    context.close()


def test_image_from_the_bot_is_shown(browser: Browser, web_servers: WebServers,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from bot import media

    monkeypatch.setenv("CHART_DIR", web_servers.extra_env["CHART_DIR"])
    monkeypatch.setenv("PUBLIC_BASE_URL", web_servers.web_url)
    url = media.publish(png_bytes(240, 150))
    context = new_context(browser)
    page = open_chat(context, web_servers)
    say(page, "hi")
    before = page.locator(".msg.bot").count()
    bot_says(web_servers, sender_of(page), {"text": "Power map of Globex Corporation", "image": url})
    wait_for_replies(page, before)
    image = page.locator(".msg.bot.image img")
    expect(image).to_have_count(1)
    expect(image).to_have_attribute("src", url)
    page.wait_for_function("() => document.querySelector('.sales-coach-widget').shadowRoot"
                           ".querySelector('.msg.bot.image img').complete")
    assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [240, 150]
    # kept for reloads, like text
    page.reload()
    expect(page.locator(".msg.bot.image img")).to_have_attribute("src", url)
    context.close()


def test_markup_in_messages_is_shown_as_text_and_never_runs(browser: Browser, web_servers: WebServers) -> None:
    # bypass_csp: the demo page's CSP would block inline handlers anyway; this checks the widget itself,
    # as it behaves on a host page without a CSP.
    context = new_context(browser, bypass_csp=True)
    dialogs: list[str] = []
    page = context.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_chat(context, web_servers, page=page)
    evil = '<script>alert(1)</script> <img src=x onerror="window.__pwned=1;alert(2)"> <b>bold</b>'
    say(page, evil)
    expect(page.locator(".msg.user").last).to_have_text(evil)

    before = page.locator(".msg.bot").count()
    bot_text = "Line one <script>alert(3)</script>\nline two <img src=y onerror=\"window.__pwned=2;alert(4)\">"
    bot_says(web_servers, sender_of(page), {
        "text": bot_text,
        "buttons": [{"title": "<img src=z onerror=alert(5)>", "payload": "/greet"}],
    })
    assert bot_text in wait_for_replies(page, before)
    expect(page.locator(".replies button.reply").last).to_have_text("<img src=z onerror=alert(5)>")
    before = page.locator(".msg.bot").count()
    bot_says(web_servers, sender_of(page), {"image": "javascript:window.__pwned=3"})
    bot_says(web_servers, sender_of(page), {"text": "after the image"})
    assert wait_for_replies(page, before) == ["after the image"]  # the javascript: "image" was dropped
    counts = page.evaluate("""() => {
        const root = document.querySelector('.sales-coach-widget').shadowRoot;
        return {scripts: root.querySelectorAll('script').length, imgs: root.querySelectorAll('img').length,
                bolds: root.querySelectorAll('b').length, pwned: window.__pwned || null,
                whiteSpace: getComputedStyle(root.querySelector('.msg.bot')).whiteSpace};
    }""")
    assert counts == {"scripts": 0, "imgs": 0, "bolds": 0, "pwned": None, "whiteSpace": "pre-wrap"}
    bubble = page.locator(".msg.bot", has_text="Line one")
    assert bubble.inner_text().split("\n") == bot_text.split("\n")  # newline kept
    assert dialogs == []
    page.reload()  # replayed from storage: still text
    expect(page.locator(".msg.user", has_text="<script>alert(1)</script>")).to_have_count(1)
    time.sleep(0.5)
    assert dialogs == [] and page.evaluate("window.__pwned || null") is None
    context.close()


def test_reload_keeps_the_conversation_and_it_continues(browser: Browser, web_servers: WebServers) -> None:
    context = new_context(browser)
    page = open_chat(context, web_servers)
    assert "Saved: new account Stark Industries." in say(page, "Add account Stark Industries")
    first_session = session_id(page)
    page.reload()
    expect(page.locator(".status.online")).to_be_visible()
    expect(page.locator(".msg.user", has_text="Add account Stark Industries")).to_have_count(1)
    expect(page.locator(".msg.bot", has_text="Saved: new account Stark Industries.")).to_have_count(1)
    assert session_id(page) == first_session
    assert "Stark Industries" in list_accounts(page)  # the server resumed the same conversation and team
    # a new tab of the same browser continues it too
    other = open_chat(context, web_servers)
    expect(other.locator(".msg.user", has_text="list my accounts")).to_have_count(1)
    assert session_id(other) == first_session
    context.close()


def test_polling_transport_works_with_rasa_cors(browser: Browser, web_servers: WebServers) -> None:
    context = new_context(browser)
    page = open_chat(context, web_servers, "?transport=polling")
    assert page.evaluate("window.demoWidget.socket.io.engine.transport.name") == "polling"
    assert "Saved: new account Hooli Labs." in say(page, "Add account Hooli Labs")
    context.close()


def test_default_transport_upgrades_to_websocket(browser: Browser, web_servers: WebServers) -> None:
    context = new_context(browser)
    page = open_chat(context, web_servers)
    page.wait_for_function("() => window.demoWidget.socket.io.engine.transport.name === 'websocket'")
    assert say(page, "hi")
    context.close()


def test_floating_launcher_opens_and_closes_the_chat(browser: Browser, web_servers: WebServers) -> None:
    context = new_context(browser, locale="zh-TW")
    page = open_chat(context, web_servers)
    page.evaluate("""() => {
        window.demoWidget.destroy();
        window.demoWidget = SalesCoachWidget.init({socketUrl: window.SALES_COACH_DEFAULTS.socketUrl});
    }""")
    launch = page.locator("button.launch")
    expect(launch).to_have_text("問教練")
    expect(page.locator(".float .panel")).to_be_hidden()
    launch.click()
    expect(page.locator(".float .panel")).to_be_visible()
    expect(page.locator(".status.online")).to_be_visible()
    assert say(page, "hi")
    page.locator("button.close").click()
    expect(page.locator(".float .panel")).to_be_hidden()
    context.close()


# --------------------------------------------------------------------------- identity


def test_accounts_are_visible_only_inside_the_signed_team(browser: Browser, web_servers: WebServers) -> None:
    alice = new_context(browser)
    page = open_chat(alice, web_servers, "?user=alice&team=acme")
    assert session_id(page) == "web:acme:alice"
    assert any("Initech Systems" in r for r in say(page, "Add account Initech Systems"))
    assert "Initech Systems" in list_accounts(page)
    tracker = web_servers.tracker("web:acme:alice")
    last_user = [e for e in tracker["events"] if e["event"] == "user"][-1]
    assert last_user["metadata"]["identity"] == {"team": "acme", "user": "alice"}

    carol = new_context(browser)  # same team: shares the accounts
    assert "Initech Systems" in list_accounts(open_chat(carol, web_servers, "?user=carol&team=acme"))

    bob = new_context(browser)  # another team
    assert "Initech Systems" not in list_accounts(open_chat(bob, web_servers, "?user=bob&team=other"))

    anonymous = new_context(browser)
    assert "Initech Systems" not in list_accounts(open_chat(anonymous, web_servers))

    # An anonymous browser that claims alice's conversation id, or an id the server never signed.
    for forged in ["web:acme:alice", "A" * 24 + "." + "B" * 32]:
        context = new_context(browser)
        stored = json.dumps({"v": 1, "sessionId": forged, "history": [{"from": "user", "text": "stale"}]})
        context.add_init_script(f"localStorage.setItem('sales-coach:anon', JSON.stringify({stored}));")
        page = open_chat(context, web_servers)
        expect(page.locator(".msg.user", has_text="stale")).to_have_count(0)  # server refused: clean slate
        assert session_id(page) != forged
        assert "Initech Systems" not in list_accounts(page)
        context.close()
    for context in (alice, carol, bob, anonymous):
        context.close()


@pytest.mark.parametrize("kind", ["garbage", "expired", "wrong_secret", "wrong_audience", "no_team"])
def test_invalid_token_is_refused(browser: Browser, web_servers: WebServers, kind: str) -> None:
    token = {
        "garbage": lambda: "not-a-jwt",
        "expired": lambda: web_servers.token("alice", "acme", seconds=-120),
        "wrong_secret": lambda: web_servers.token("alice", "acme", key="not-the-server-secret-0123456789abcdef"),
        "wrong_audience": lambda: web_servers.token("alice", "acme", aud="someone-else"),
        "no_team": lambda: web_servers.token("alice", None),
    }[kind]()
    context = new_context(browser)
    page = context.new_page()
    page.goto(f"{web_servers.web_url}/#token={token}")
    expect(page.locator(".status.refused")).to_be_visible()
    expect(page.locator(".status-text")).to_have_text("Not signed in or sign-in expired: reload the page")
    page.locator("textarea.input").fill("list my accounts")
    page.locator("textarea.input").press("Enter")
    time.sleep(2)
    assert page.locator(".msg.bot").count() == 0
    context.close()


def test_valid_token_from_the_page_fragment_is_accepted(browser: Browser, web_servers: WebServers) -> None:
    context = new_context(browser)
    page = open_chat(context, web_servers, "#token=" + web_servers.token("dave", "acme", algorithm="RS256"))
    assert session_id(page) == "web:acme:dave"
    context.close()


# --------------------------------------------------------------------------- web page server


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def test_charts_are_served_only_by_safe_name(web_servers: WebServers) -> None:
    charts = Path(web_servers.extra_env["CHART_DIR"])
    png = png_bytes(40, 30)
    (charts / "Abcdefghijklmnop_-123456.png").write_bytes(png)
    status, headers, body = fetch(f"{web_servers.web_url}/charts/Abcdefghijklmnop_-123456.png")
    assert (status, body) == (200, png)
    assert headers["Content-Type"] == "image/png"
    assert headers["Cache-Control"].startswith("private")
    (charts / "short.png").write_bytes(png)
    for name in ["short.png", "Abcdefghijklmnop_-123456.PNG", "..%2Faccounts.db", "../accounts.db",
                 "Abcdefghijklmnop_-123456.png.txt", "missingmissingmissing.png"]:
        assert fetch(f"{web_servers.web_url}/charts/{name}")[0] == 404, name


def test_page_server_serves_only_the_web_files(web_servers: WebServers) -> None:
    status, headers, body = fetch(web_servers.web_url + "/")
    assert status == 200 and b'<script src="/widget.js">' in body and b"<script>" not in body  # no inline JS
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    status, headers, _ = fetch(web_servers.web_url + "/widget.js")
    assert status == 200 and headers["Content-Type"].startswith("application/javascript")
    assert fetch(web_servers.web_url + "/vendor/socket.io.min.js")[0] == 200
    for path in ["/node_modules/socket.io-client/package.json", "/package.json", "/../README.md", "/web/",
                 "/%2e%2e/README.md"]:
        assert fetch(web_servers.web_url + path)[0] == 404, path


def test_demo_tokens_are_signed_and_validated(web_servers: WebServers) -> None:
    import jwt

    status, _, body = fetch(f"{web_servers.web_url}/demo-token?user=alice&team=acme")
    assert status == 200
    claims = jwt.decode(json.loads(body)["token"], web_servers.jwt_secret, algorithms=["HS256"],
                        audience="sales-coach-web")
    assert (claims["sub"], claims["team"]) == ("alice", "acme")
    assert claims["exp"] - time.time() <= 3600
    assert fetch(f"{web_servers.web_url}/demo-token?user=al%0Aice&team=acme")[0] == 400
    assert fetch(f"{web_servers.web_url}/demo-token?user=alice")[0] == 400


def test_demo_tokens_are_off_unless_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    from http.server import ThreadingHTTPServer

    from bot.webpage import make_handler

    monkeypatch.setenv("WEB_JWT_SECRET", "x" * 32)
    monkeypatch.delenv("WEB_DEMO_TOKENS", raising=False)
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler("http://127.0.0.1:5005"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert fetch(f"{base}/demo-token?user=alice&team=acme")[0] == 404
        assert b'"demoTokens": false' in fetch(f"{base}/config.js")[2]
        monkeypatch.setenv("WEB_DEMO_TOKENS", "true")
        monkeypatch.delenv("WEB_JWT_SECRET")
        assert fetch(f"{base}/demo-token?user=alice&team=acme")[0] == 404  # nothing to sign with
    finally:
        server.shutdown()
        server.server_close()


# --------------------------------------------------------------------------- screenshots for the docs


@pytest.mark.parametrize("locale, name, messages", [
    ("en-US", "widget-en.png", ["hi", "Add account Globex Corporation", "let's practise"]),
    ("zh-CN", "widget-zh.png", ["你好", "新建客户华东精密", "我想练习一下客户拜访"]),
])
def test_screenshots(browser: Browser, web_servers: WebServers, tmp_path: Path, locale: str, name: str,
                     messages: list[str]) -> None:
    context = new_context(browser, locale=locale, height=1010)
    team = f"screens-{locale}-{time.time_ns()}"  # a fresh team, so the replies are those of a first visit
    page = open_chat(context, web_servers, f"?user=rep&team={team}")
    for text in messages:
        say(page, text)
    expect(page.locator(".replies:not(.used) button.reply").first).to_be_visible()
    page.locator("textarea.input").blur()
    shot = tmp_path / name
    page.locator("#chat").screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    if os.environ.get("UPDATE_SCREENSHOTS"):
        target = REPO / "docs" / "img" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)
    context.close()
