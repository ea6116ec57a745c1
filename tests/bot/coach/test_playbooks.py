"""Every playbook is complete, bilingual, and renders with and without account facts."""
from __future__ import annotations

import re
import string
from typing import Any, Iterator, Tuple

import pytest

from bot.coach import engine
from bot.coach.facts import empty_facts
from bot.language import to_simplified

PLAYBOOKS = ["methods", "objections", "relationship", "negotiation", "proposal", "meeting_prep", "stages", "risks",
             "conflicts", "bant", "roi", "debrief"]
KNOWN_FLAGS = re.compile(
    r"^(not )?(account_known|stage_known|early_stage|mid_stage|late_stage|stage_\w+|budget_known|timeline_known|"
    r"competitor_known|decider_known|decider_supportive|decider_neutral|decider_opposed|coach_known|technical_known|need_known|"
    r"single_contact|opponent_known|person_known|person_role_\w+|person_attitude_\w+|person_stage_\w+)$")


def blocks(node: Any, path: str = "") -> Iterator[Tuple[str, dict]]:
    """All dicts with an `en` key (text blocks and variants), with their path."""
    if isinstance(node, dict):
        if "en" in node and isinstance(node["en"], str):
            yield path, node
        for key, value in node.items():
            yield from blocks(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from blocks(value, f"{path}[{i}]")


def fields(text: str) -> set:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("name", PLAYBOOKS)
def test_every_block_is_bilingual_with_the_same_placeholders(name):
    book = engine.playbook(name)
    assert book, name
    for path, block in blocks(book):
        assert isinstance(block.get("zh"), str) and block["zh"].strip(), f"{name}{path}: missing zh"
        assert fields(block["en"]) == fields(block["zh"]), f"{name}{path}: placeholders differ"
        assert to_simplified(block["zh"]) == block["zh"], f"{name}{path}: zh must be simplified"
        for cond in ([block["when"]] if isinstance(block.get("when"), str) else block.get("when") or []):
            assert KNOWN_FLAGS.match(cond), f"{name}{path}: unknown condition {cond!r}"


@pytest.mark.parametrize("name", PLAYBOOKS)
def test_variant_lists_end_with_a_fallback(name):
    def walk(node: Any, path: str = "") -> None:
        if isinstance(node, list) and node and all(isinstance(v, dict) and "en" in v for v in node) \
                and any("when" in v for v in node):
            assert "when" not in node[-1], f"{name}{path}: last variant must have no `when`"
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{path}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")

    walk(engine.playbook(name))


def test_methods_cover_every_method_value_with_an_example():
    from bot.lexicon import canonical_values

    methods = engine.playbook("methods")
    for method in canonical_values("method"):
        entry = methods[method]
        for part in ("title", "explain", "example", "try_next"):
            assert engine.text(entry[part], "en", empty_facts()), (method, part)
            assert engine.text(entry[part], "zh-Hans", empty_facts()), (method, part)


def test_objections_have_three_diagnosed_causes_each_with_a_next_action():
    book = engine.playbook("objections")
    assert set(book) == {"objection_price", "objection_competitor", "objection_timing", "objection_authority",
                         "objection_no_need", "objection_risk", "objection_technical_fit"}
    assert list(book["objection_technical_fit"]["causes"]) == ["real_gap", "misunderstanding", "blocker"]
    assert list(book["objection_price"]["causes"]) == ["over_budget", "value_not_shown", "habitual"]
    for kind, entry in book.items():
        assert len(entry["causes"]) == 3, kind
        for cause, c in entry["causes"].items():
            assert engine.text(c["next_action"], "en", empty_facts()).startswith("Next action"), (kind, cause)
            assert engine.text(c["next_action"], "zh", empty_facts()).startswith("下一步"), (kind, cause)


def test_conflict_facts_all_have_questions():
    for kind, entry in engine.playbook("conflicts").items():
        assert entry["facts"], kind
        for fact in entry["facts"]:
            assert entry["ask"][fact]["en"] and entry["ask"][fact]["zh"], (kind, fact)


def test_rendering_with_no_facts_leaves_no_placeholder_unfilled():
    facts = empty_facts().with_extra(need="X", investment="1", saving="1", payback_months="1", roi_3y="1",
                                     net_3y="1", support=1, oppose=2, count=1, problems="p", implications="i",
                                     payoffs="n", people="x", contact="c", days="3", reason="r", request="q",
                                     priority="p", cut="c", keep="k", issue="i", impact="m")
    for name in PLAYBOOKS:
        for path, block in blocks(engine.playbook(name)):
            for lang in ("en", "zh-Hans"):
                out = block[lang[:2]].format_map(engine._Params(facts.values(lang)))
                assert "{" not in out, f"{name}{path} [{lang}]: {out}"
