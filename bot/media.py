"""Where generated pictures (power map, score card, practice history) live.

Actions render a PNG and `publish` it: the file goes to ``CHART_DIR`` under an
unguessable name and the message carries ``{PUBLIC_BASE_URL}/charts/<name>.png``.
The web page server serves that folder; the Slack and WeCom channels recognise
their own URLs with `local_path` and upload the file instead of linking it, so
a chart never needs to be reachable from the internet.

Charts name people and their influence, so they do not live forever: a chart older than
``CHART_RETENTION_HOURS`` (default 24) is no longer served and its file is deleted, and the
charts of an account are deleted with the account or any of its people (`remove`; the account
store keeps which chart shows which account).
"""
from __future__ import annotations

import logging
import os
import re
import secrets
import time
from pathlib import Path
from typing import Iterable, Optional

from bot import REPO_DIR

logger = logging.getLogger(__name__)

_NAME = re.compile(r"^[A-Za-z0-9_-]{16,64}\.png$")
DEFAULT_RETENTION_HOURS = 24.0
_last_purge = {"at": 0.0}


def chart_dir() -> Path:
    return Path(os.environ.get("CHART_DIR") or REPO_DIR / "var" / "charts")


def public_base_url() -> str:
    return (os.environ.get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{os.environ.get('WEB_PORT', '8000')}").rstrip("/")


def retention_seconds() -> float:
    """``CHART_RETENTION_HOURS`` (default 24) in seconds."""
    try:
        hours = float(os.environ.get("CHART_RETENTION_HOURS", "") or DEFAULT_RETENTION_HOURS)
    except ValueError:
        hours = DEFAULT_RETENTION_HOURS
    return max(hours, 0.0) * 3600


def expired(path: Path, now: Optional[float] = None) -> bool:
    """True when the chart file is older than the retention time."""
    try:
        age = (time.time() if now is None else now) - path.stat().st_mtime
    except OSError:
        return True
    return age > retention_seconds()


def purge_expired(force: bool = False) -> int:
    """Deletes expired chart files (at most once a minute unless `force`); returns how many."""
    now = time.time()
    if not force and now - _last_purge["at"] < 60:
        return 0
    _last_purge["at"] = now
    removed = 0
    folder = chart_dir()
    for path in folder.glob("*.png") if folder.is_dir() else []:
        if safe_name(path.name) and expired(path, now):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def remove(names: Iterable[str]) -> int:
    """Deletes the given chart files (names as `file_name` gives them); returns how many existed."""
    removed = 0
    for name in names:
        safe = safe_name(name)
        if safe and (chart_dir() / safe).is_file():
            (chart_dir() / safe).unlink(missing_ok=True)
            removed += 1
    return removed


def file_name(url: str) -> Optional[str]:
    """The file name inside a URL made by `publish`."""
    prefix = f"{public_base_url()}/charts/"
    return safe_name(url[len(prefix):]) if url and url.startswith(prefix) else None


def publish(png: bytes) -> str:
    """Stores a PNG and returns the URL a channel can show (and drops expired ones on the way)."""
    try:
        purge_expired()
    except OSError as exc:  # a purge problem must not cost the picture
        logger.warning("could not purge expired charts: %s", type(exc).__name__)
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
    """The stored, unexpired file behind a URL made by `publish`, or None for any other URL."""
    name = file_name(url)
    if not name:
        return None
    path = chart_dir() / name
    return path if path.is_file() and not expired(path) else None
