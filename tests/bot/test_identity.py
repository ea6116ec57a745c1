"""Who is talking: team and user keys from the sender id, channel and metadata."""
from __future__ import annotations

import pytest

from bot.identity import MAX_KEY_CHARS, caller_from, sender_reserved


def test_a_usual_sender_id_is_kept_readable(monkeypatch):
    monkeypatch.delenv("DEFAULT_TEAM", raising=False)
    who = caller_from("rep-1", "rest", {})
    assert (who.team_key, who.user_key, who.channel) == ("solo:rep-1", "sender:rep-1", "rest")
    slack = caller_from("x", "slack", {"identity": {"team": "T1", "user": "U2"}})
    assert (slack.team_key, slack.user_key) == ("slack:T1", "slack:T1:U2")


@pytest.mark.parametrize("sender", ["s" * 300, "s" * 196, "rep\x00-1", "𠀀" * 500])
def test_a_sender_id_too_long_for_the_key_columns_or_with_a_nul_is_hashed(monkeypatch, sender):
    monkeypatch.delenv("DEFAULT_TEAM", raising=False)
    who = caller_from(sender, "rest", {})
    for key, prefix in ((who.team_key, "solo#sha256:"), (who.user_key, "sender#sha256:")):
        assert key.startswith(prefix) and len(key) <= MAX_KEY_CHARS and "\x00" not in key
    # stable, and distinct from another sender's
    assert caller_from(sender, "rest", {}) == who
    assert caller_from(sender + "x", "rest", {}).team_key != who.team_key


def test_the_longest_readable_sender_id_fits_exactly(monkeypatch):
    monkeypatch.delenv("DEFAULT_TEAM", raising=False)
    sender = "s" * (MAX_KEY_CHARS - len("sender:"))
    who = caller_from(sender, "rest", {})
    assert who.user_key == f"sender:{sender}" and len(who.user_key) == MAX_KEY_CHARS
    assert who.team_key == f"solo:{sender}"


def test_a_long_verified_identity_is_hashed_per_channel():
    who = caller_from("x", "web", {"identity": {"team": "t" * 150, "user": "u" * 150}})
    assert who.team_key == "web:" + "t" * 150
    assert who.user_key.startswith("web#sha256:") and len(who.user_key) <= MAX_KEY_CHARS


def test_a_sender_id_that_spells_out_a_hash_never_lands_on_a_hashed_key(monkeypatch):
    """A REST client picks its sender id: `sha256:<hex>` must not open the team of the long id of that hash."""
    monkeypatch.delenv("DEFAULT_TEAM", raising=False)
    long_sender = "s" * 300
    hashed = caller_from(long_sender, "rest", {})
    spelled = caller_from(hashed.team_key.split("#", 1)[1], "rest", {})
    assert spelled.team_key != hashed.team_key and spelled.user_key != hashed.user_key
    assert spelled.team_key.startswith("solo:") and hashed.team_key.startswith("solo#")


@pytest.mark.parametrize("sender", ["slack:T1:U1", "wecom:corp:user", "web:acme:alice", "web-anon:abc",
                                    "SLACK:T1:U1", " web-anon:abc"])
def test_other_channels_conversation_ids_are_reserved(sender):
    assert sender_reserved(sender)


@pytest.mark.parametrize("sender", ["rep-1", "T123:U456", "sha256:abc", "me@example.com", "webber", "slacker:1"])
def test_ordinary_sender_ids_are_not_reserved(sender):
    assert not sender_reserved(sender)


def test_the_shared_team_is_never_open_to_anonymous_web_visitors(monkeypatch):
    monkeypatch.setenv("DEFAULT_TEAM", "acme")
    assert caller_from("rep-1", "rest", {}).team_key == "team:acme"
    assert caller_from("me", "cmdline", {}).team_key == "team:acme"
    assert caller_from("web-anon:abc", "web", {}).team_key == "solo:web-anon:abc"
    assert caller_from("x", "socketio", {}).team_key == "solo:x"
