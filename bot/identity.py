"""Who is talking: the caller's user and team, decided on the server side.

Channels that know a workspace (our Slack, WeCom and signed web-widget channels)
put a verified ``identity`` into the message metadata; everything else (REST,
the anonymous web page, the shell) makes each sender their own team, unless
`DEFAULT_TEAM` names one shared team for a single-team deployment.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Dict, Optional

# Channels whose input code writes `metadata["identity"]` itself from a verified
# request; metadata from any other channel is client-controlled and ignored.
TRUSTED_IDENTITY_CHANNELS = frozenset({"slack", "wecom", "web"})


@dataclass(frozen=True)
class Caller:
    """The rep behind a message and the team whose accounts they may see."""

    team_key: str
    user_key: str
    channel: str


def caller_from(sender_id: str, channel: Optional[str], metadata: Optional[Dict[str, Any]]) -> Caller:
    """Resolves the caller from a message's sender id, input channel and metadata."""
    channel = channel or "unknown"
    identity = (metadata or {}).get("identity") if isinstance(metadata, dict) else None
    if channel in TRUSTED_IDENTITY_CHANNELS and isinstance(identity, dict):
        team = identity.get("team")
        user = identity.get("user")
        if team and user:
            return Caller(team_key=f"{channel}:{team}", user_key=f"{channel}:{team}:{user}", channel=channel)
    shared = os.environ.get("DEFAULT_TEAM")
    team_key = f"team:{shared}" if shared else f"solo:{sender_id}"
    return Caller(team_key=team_key, user_key=f"sender:{sender_id}", channel=channel)
