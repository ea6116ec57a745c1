"""Where generated pictures (power map, score card, practice history) live.

Actions render a PNG and `publish` it: the file goes to ``CHART_DIR`` under an
unguessable name and the message carries ``{PUBLIC_BASE_URL}/charts/<name>.png``.
The web page server serves that folder; the Slack and WeCom channels recognise
their own URLs with `local_path` and upload the file instead of linking it, so
a chart never needs to be reachable from the internet.
"""
from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Optional

from bot import REPO_DIR

_NAME = re.compile(r"^[A-Za-z0-9_-]{16,64}\.png$")


def chart_dir() -> Path:
    return Path(os.environ.get("CHART_DIR") or REPO_DIR / "var" / "charts")


def public_base_url() -> str:
    return (os.environ.get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{os.environ.get('WEB_PORT', '8000')}").rstrip("/")


def publish(png: bytes) -> str:
    """Stores a PNG and returns the URL a channel can show."""
    folder = chart_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_urlsafe(24)}.png"
    tmp = folder / f".{name}.tmp"
    tmp.write_bytes(png)
    tmp.replace(folder / name)
    return f"{public_base_url()}/charts/{name}"


def safe_name(name: str) -> Optional[str]:
    """The file name if it is one `publish` could have made (no paths, no tricks)."""
    return name if _NAME.match(name or "") else None


def local_path(url: str) -> Optional[Path]:
    """The stored file behind a URL made by `publish`, or None for any other URL."""
    prefix = f"{public_base_url()}/charts/"
    if not url or not url.startswith(prefix):
        return None
    name = safe_name(url[len(prefix):])
    if not name:
        return None
    path = chart_dir() / name
    return path if path.is_file() else None
