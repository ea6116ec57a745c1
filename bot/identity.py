"""Who is talking: the caller's user and team, decided on the server side.

Channels that know a workspace (our Slack, WeCom and signed web-widget channels)
put a verified ``identity`` into the message metadata; everything else (REST,
the anonymous web page, the shell) makes each sender their own team, unless
`DEFAULT_TEAM` names one shared team for a single-team deployment (REST and the shell only:
an anonymous web visitor is always their own team).
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any, Dict, Optional

# Channels whose input code writes `metadata["identity"]` itself from a verified
# request; metadata from any other channel is client-controlled and ignored.
TRUSTED_IDENTITY_CHANNELS = frozenset({"slack", "wecom", "web"})

#: Channels whose unverified senders join `DEFAULT_TEAM` when it is set (this machine or a trusted back end)
SHARED_TEAM_CHANNELS = frozenset({"rest", "cmdline"})

#: Conversation ids of the other channels begin with these (``slack:T1:U2``, ``wecom:corp:user``,
#: ``web:team:user``, ``web-anon:<nonce>``). A REST sender id, which the client picks, may not:
#: otherwise a REST client could open a Slack rep's conversation or an anonymous web user's team.
RESERVED_SENDER_PREFIXES = ("slack:", "wecom:", "web:", "web-anon:")

#: the store's team and user key columns hold 200 characters
MAX_KEY_CHARS = 200


@dataclass(frozen=True)
class Caller:
    """The rep behind a message and the team whose accounts they may see."""

    team_key: str
    user_key: str
    channel: str


def sender_reserved(sender_id: str) -> bool:
    """True when a client-chosen sender id would name another channel's conversation."""
    return sender_id.strip().casefold().startswith(RESERVED_SENDER_PREFIXES)


def caller_from(sender_id: str, channel: Optional[str], metadata: Optional[Dict[str, Any]]) -> Caller:
    """Resolves the caller from a message's sender id, input channel and metadata."""
    channel = channel or "unknown"
    identity = (metadata or {}).get("identity") if isinstance(metadata, dict) else None
    if channel in TRUSTED_IDENTITY_CHANNELS and isinstance(identity, dict):
        team = identity.get("team")
        user = identity.get("user")
        if team and user:
            return Caller(team_key=_fit(f"{channel}:{team}", f"{channel}:"),
                          user_key=_fit(f"{channel}:{team}:{user}", f"{channel}:"), channel=channel)
    # The shared team is for a single-team deployment's own back end (REST, the terminal): an
    # anonymous web visitor, who anyone on the internet can be, is always a team of their own.
    shared = os.environ.get("DEFAULT_TEAM") if channel in SHARED_TEAM_CHANNELS else None
    team_key = _fit(f"team:{shared}", "team:") if shared else _fit(f"solo:{sender_id}", "solo:")
    return Caller(team_key=team_key, user_key=_fit(f"sender:{sender_id}", "sender:"), channel=channel)


def _fit(key: str, prefix: str) -> str:
    """A team or user key as stored: itself, or `<prefix without its colon>#sha256:<hex of the key>`.

    Any REST client picks its own sender id; one of 300 characters, or holding a NUL
    character (which PostgreSQL cannot store), would not fit the store's key columns.
    Hashing keeps such an id one stable key of its own. A plain key always has its prefix's
    colon (``solo:…``) and a hashed one a ``#`` there (``solo#sha256:…``), so a sender id that
    spells out a hash (``sha256:<hex>``) can never land on the key a hashed id was given.
    """
    if len(key) <= MAX_KEY_CHARS and "\x00" not in key:
        return key
    return f"{prefix.rstrip(':')}#sha256:{hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()}"


def log_name(sender_id: Any) -> str:
    """How logs name a conversation: a short hash, since channel user ids are often people's names."""
    raw = sender_id if isinstance(sender_id, str) else repr(sender_id)
    return "conv-" + hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:12]
