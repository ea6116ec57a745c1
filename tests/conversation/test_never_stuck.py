"""A stateful property test: random walks through everything a rep can say never lock the bot up or lose data.

Hypothesis drives the real trained model (REST channel, action server) with messages drawn from
the training data of every intent, in all three scripts, plus clicks and typed labels of the
buttons the bot just offered, numbers, "yes"/"no", "help" and a few deliberately vague commands.
Forms are opened and abandoned, objections and conflicts interrupt each other, practice starts
and ends, corrections and undo arrive at any time. After every turn:

* the reply is not empty;
* Rasa never logged "Circuit breaker tripped";
* no account or person disappeared unless this turn's reply says a confirmed delete or an undo
  removed it.
"""
from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from bot import i18n
from bot.store import AccountStore
from bot.store.db import make_session_factory
from tests.servers import REPO

pytestmark = [pytest.mark.model, pytest.mark.slow]

_MARKUP = re.compile(r"\[([^\]]+)\]\{[^}]*\}|\[([^\]]+)\]\([^)]*\)")
VAGUE = ["delete", "delete him", "remove that", "把那个删了", "刪掉", "undo", "撤销", "復原", "done", "算了", "later",
         "以后再说", "what should I ask here?", "要问什么？", "help", "幫助", "1", "2", "yes", "no", "是的", "不是",
         "/restart", "hi", "list my accounts", "我的客户有哪些"]


def _examples() -> Dict[str, List[str]]:
    out: Dict[str, List[str]] = {}
    for path in sorted((REPO / "data" / "nlu").glob("*/*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            if "intent" not in block:
                continue
            lines = [ln[2:].strip() for ln in str(block.get("examples") or "").splitlines() if ln.startswith("- ")]
            texts = [_MARKUP.sub(lambda m: m.group(1) or m.group(2), ln) for ln in lines]
            out.setdefault(block["intent"], []).extend(t for t in texts if t)
    return out


EXAMPLES = _examples()
INTENTS = sorted(EXAMPLES)
_REMOVED = [i18n.render(k, lang)[:12] for k in ("deleted_account", "deleted_person") for lang in ("en", "zh-Hans",
                                                                                                   "zh-Hant")]


def _removal_reply(texts: List[str]) -> bool:
    """A confirmed delete, or an undo (which says what it reverted)."""
    return any(t.startswith(tuple(_REMOVED)) for t in texts) or any(
        w in t for t in texts for w in ("Undone", "undone", "已撤销", "已撤銷", "已復原", "已还原", "已還原"))


def _names(servers: Any, sender: str) -> set:
    store = AccountStore(make_session_factory(servers.database_url))
    with store.team(f"solo:{sender}") as scope:
        return {("person", p.id) for a in scope.list_accounts() for p in a.stakeholders} | {
            ("account", a.id) for a in scope.list_accounts()}  # ids: a rename or a merge of names is no loss


def _log_has_circuit_breaker(servers: Any) -> bool:
    log = Path(servers.workdir) / "rasa.log"
    return "Circuit breaker tripped" in log.read_text(encoding="utf-8", errors="replace")


class Rep(RuleBasedStateMachine):
    servers: Any = None

    @initialize()
    def start(self) -> None:
        self.sender = f"walk-{uuid.uuid4().hex[:10]}"
        self.buttons: List[Dict[str, Any]] = []
        self.last: List[str] = []
        self.names = set()
        self.send("add account Initech, software")
        self.send("Dave Wilson is the CIO at Initech, a supporter")

    def send(self, text: str) -> None:
        replies = self.servers.say(self.sender, text)
        self.last = [r.get("text") or "" for r in replies]
        assert any(t.strip() for t in self.last) or any(r.get("image") for r in replies), f"no reply to {text!r}"
        self.buttons = [b for r in replies for b in r.get("buttons") or []]
        now = _names(self.servers, self.sender)
        lost = self.names - now
        assert not lost or _removal_reply(self.last), f"{sorted(lost)} disappeared after {text!r}: {self.last}"
        self.names = now

    @rule(intent=st.sampled_from(INTENTS), data=st.data())
    def say_an_example(self, intent: str, data: Any) -> None:
        self.send(data.draw(st.sampled_from(EXAMPLES[intent]), label=intent))

    @rule(text=st.sampled_from(VAGUE))
    def say_something_vague(self, text: str) -> None:
        self.send(text)

    @rule(data=st.data())
    def use_a_button(self, data: Any) -> None:
        if not self.buttons:
            return self.send("help")
        button = data.draw(st.sampled_from(self.buttons))
        how = data.draw(st.sampled_from(["payload", "label", "number"]))
        if how == "payload":
            self.send(button["payload"])
        elif how == "label":
            self.send(button["title"])
        else:
            self.send(str(self.buttons.index(button) + 1))

    @invariant()
    def no_circuit_breaker(self) -> None:
        if self.servers is not None:
            assert not _log_has_circuit_breaker(self.servers)


def test_random_walks_never_get_stuck_or_lose_data(servers):
    Rep.servers = servers
    Rep.TestCase.settings = settings(max_examples=8, stateful_step_count=18, deadline=None, derandomize=True,
                                     suppress_health_check=list(HealthCheck))
    Rep.TestCase().runTest()
