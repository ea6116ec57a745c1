"""Serves the web chat page and the embeddable widget on localhost.

``python -m bot.webpage --port 8000 --rasa http://127.0.0.1:5005``

Static files come from `web/`; the socket.io client from `web/node_modules`
(installed by the setup from the npm registry, pinned in web/package-lock.json).
"""
from __future__ import annotations

import argparse
import json
import mimetypes
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bot import REPO_DIR

WEB_DIR = REPO_DIR / "web"
SOCKET_IO_JS = WEB_DIR / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"


def make_handler(rasa_url: str, token_issuer=None):  # noqa: ANN001, ANN201
    """A request handler serving web/ plus /config.js pointing at the Rasa server."""

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):  # noqa: ANN002, ANN003
            super().__init__(*args, directory=str(WEB_DIR), **kwargs)

        def log_message(self, format: str, *args) -> None:  # noqa: A002, ANN002 - quiet
            return

        def end_headers(self) -> None:
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def _send(self, body: bytes, content_type: str, status: int = 200) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - http.server API
            path = self.path.split("?", 1)[0]
            if path == "/config.js":
                config = {"socketUrl": rasa_url}
                body = f"window.SALES_COACH_DEFAULTS = {json.dumps(config)};\n".encode()
                self._send(body, "application/javascript; charset=utf-8")
                return
            if path == "/vendor/socket.io.min.js":
                if not SOCKET_IO_JS.exists():
                    self._send(b"// socket.io-client missing: run make setup", "application/javascript", 404)
                    return
                self._send(SOCKET_IO_JS.read_bytes(), "application/javascript; charset=utf-8")
                return
            if path.startswith("/node_modules"):
                self._send(b"not found", "text/plain", 404)
                return
            super().do_GET()

        def guess_type(self, path: str) -> str:
            if str(path).endswith(".js"):
                return "application/javascript; charset=utf-8"
            return mimetypes.guess_type(str(path))[0] or "application/octet-stream"

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--rasa", default="http://127.0.0.1:5005")
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), make_handler(args.rasa))
    print(f"web chat on http://{args.host}:{args.port}/ (Rasa at {args.rasa})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
