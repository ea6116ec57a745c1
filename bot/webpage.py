"""Serves the web chat page, the embeddable widget and generated charts on localhost.

``python -m bot.webpage --port 8000 --rasa http://127.0.0.1:5005``

* ``/`` (``web/index.html``), ``/widget.js`` and the other files directly in `web/`;
* ``/vendor/socket.io.min.js``: the socket.io client from `web/node_modules`
  (installed by the setup from the npm registry, pinned in web/package-lock.json);
* ``/config.js``: where the Rasa server is, for the demo page;
* ``/charts/<name>.png``: pictures the actions published with `bot.media.publish`;
* ``/demo-token?user=alice&team=acme``: a signed widget token for trying out
  identities, only with ``WEB_DEMO_TOKENS=true`` and ``WEB_JWT_SECRET`` set, and only
  to requests from this machine. Never enable it in production: anyone who can
  reach it can be anyone.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from typing import Any, Optional
from urllib.parse import parse_qs, urlsplit

from bot import REPO_DIR, media

WEB_DIR = REPO_DIR / "web"
SOCKET_IO_JS = WEB_DIR / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
STATIC_FILE = re.compile(r"^/([A-Za-z0-9_-]+\.(?:html|js|css|png|svg|ico))$")
DEMO_CLAIM = re.compile(r"^[A-Za-z0-9._@+-]{1,64}$")
DEMO_TOKEN_SECONDS = 3600
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "application/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".png": "image/png", ".svg": "image/svg+xml",
                 ".ico": "image/x-icon"}


def demo_tokens_enabled() -> bool:
    return os.environ.get("WEB_DEMO_TOKENS", "").strip().lower() in {"1", "true", "yes", "on"} \
        and bool(os.environ.get("WEB_JWT_SECRET"))


def mint_demo_token(user: str, team: str, seconds: int = DEMO_TOKEN_SECONDS) -> str:
    """An HS256 widget token as a host page's server would mint it (see docs/channels-web.md)."""
    import jwt

    now = int(time.time())
    claims: dict[str, Any] = {"sub": user, "team": team, "iat": now, "exp": now + seconds}
    if os.environ.get("WEB_JWT_AUDIENCE"):
        claims["aud"] = os.environ["WEB_JWT_AUDIENCE"]
    if os.environ.get("WEB_JWT_ISSUER"):
        claims["iss"] = os.environ["WEB_JWT_ISSUER"]
    return jwt.encode(claims, os.environ["WEB_JWT_SECRET"], algorithm="HS256")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def content_security_policy(rasa_url: str) -> str:
    """CSP for the demo page: our scripts only; sockets to the Rasa server; images from here and charts."""
    rasa = _origin(rasa_url)
    sockets = [rasa, rasa.replace("http", "ws", 1)] if rasa else []
    images = {"'self'", "data:", _origin(media.public_base_url())} - {""}
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",  # the widget injects its own <style>
        f"img-src {' '.join(sorted(images))}",
        "connect-src " + " ".join(["'self'", *sockets]),
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ])


def make_handler(rasa_url: str, token_issuer=None):  # noqa: ANN001, ANN201
    """A request handler serving web/ plus /config.js pointing at the Rasa server."""
    csp = content_security_policy(rasa_url)

    class Handler(SimpleHTTPRequestHandler):
        server_version = "sales-coach-web"
        # a connection that never finishes its request does not keep a thread for ever
        timeout = float(os.environ.get("WEB_CONNECTION_TIMEOUT", "30"))
        sys_version = ""

        def __init__(self, *args, **kwargs):  # noqa: ANN002, ANN003
            super().__init__(*args, directory=str(WEB_DIR), **kwargs)

        def log_message(self, format: str, *args) -> None:  # noqa: A002, ANN002 - quiet
            return

        def _send(self, body: bytes, content_type: str, status: int = 200, cache: str = "no-store",
                  extra: Optional[dict[str, str]] = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", cache)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _not_found(self) -> None:
            self._send(b"not found", "text/plain; charset=utf-8", 404)

        def do_HEAD(self) -> None:  # noqa: N802 - http.server API
            self.do_GET()

        def do_GET(self) -> None:  # noqa: N802 - http.server API
            url = urlsplit(self.path)
            path = url.path
            if path == "/config.js":
                config = {"socketUrl": rasa_url, "demoTokens": demo_tokens_enabled()}
                body = f"window.SALES_COACH_DEFAULTS = {json.dumps(config)};\n".encode()
                self._send(body, "application/javascript; charset=utf-8")
            elif path == "/vendor/socket.io.min.js":
                if not SOCKET_IO_JS.exists():
                    self._send(b"// socket.io-client missing: run make setup", "application/javascript", 404)
                    return
                self._send(SOCKET_IO_JS.read_bytes(), "application/javascript; charset=utf-8",
                           cache="public, max-age=3600", extra={"Access-Control-Allow-Origin": "*"})
            elif path.startswith("/charts/"):
                self._chart(path[len("/charts/"):])
            elif path == "/demo-token":
                self._demo_token(parse_qs(url.query))
            elif path == "/" or STATIC_FILE.match(path):
                self._static("index.html" if path == "/" else path[1:])
            else:
                self._not_found()

        def _static(self, name: str) -> None:
            file = WEB_DIR / name
            if not file.is_file():
                self._not_found()
                return
            suffix = file.suffix
            extra = {"Content-Security-Policy": csp} if suffix == ".html" else {}
            if suffix == ".js":  # the widget is embedded on other sites' pages
                extra["Access-Control-Allow-Origin"] = "*"
            self._send(file.read_bytes(), CONTENT_TYPES[suffix], cache="no-cache", extra=extra)

        def _chart(self, name: str) -> None:
            safe = media.safe_name(name)
            file = media.chart_dir() / safe if safe else None
            if file is None or not file.is_file() or media.expired(file):
                self._not_found()
                return
            self._send(file.read_bytes(), "image/png", cache="private, no-store",
                       extra={"Cross-Origin-Resource-Policy": "cross-origin"})

        def _demo_token(self, query: dict[str, list[str]]) -> None:
            if not demo_tokens_enabled() or not ip_address(self.client_address[0]).is_loopback:
                self._not_found()
                return
            user = (query.get("user") or [""])[0]
            team = (query.get("team") or [""])[0]
            if not DEMO_CLAIM.match(user) or not DEMO_CLAIM.match(team):
                self._send(b'{"error": "user and team: 1-64 of A-Z a-z 0-9 . _ @ + -"}',
                           "application/json", 400)
                return
            issue = token_issuer or mint_demo_token
            body = json.dumps({"token": issue(user, team), "user": user, "team": team}).encode()
            self._send(body, "application/json")

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--rasa", default="http://127.0.0.1:5005")
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), make_handler(args.rasa))
    server.daemon_threads = True
    demo = " (demo tokens ON: never in production)" if demo_tokens_enabled() else ""
    print(f"web chat on http://{args.host}:{args.port}/ (Rasa at {args.rasa}){demo}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
