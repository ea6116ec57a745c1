"""Shared-secret checks for the HTTP endpoints this project serves itself.

Used by the REST channel (`REST_CHANNEL_TOKEN`) and the action server (`ACTION_SERVER_TOKEN`).
The comparison is constant-time; an empty secret or an empty answer never matches.
"""
from __future__ import annotations

import hmac
from typing import Any


def supplied_token(request: Any, allow_query: bool = False) -> str:
    """The token of ``Authorization: Bearer <token>`` (or ``?token=`` when `allow_query`), else ''."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return (request.args.get("token") or "") if allow_query else ""


def token_matches(request: Any, expected: str, allow_query: bool = False) -> bool:
    supplied = supplied_token(request, allow_query)
    return bool(supplied) and bool(expected) and hmac.compare_digest(supplied.encode(), expected.encode())
