"""English titles and the names said with them (bot.nlu.titles)."""
from __future__ import annotations

import pytest

from bot.nlu.titles import titles_with_people, with_titles


@pytest.mark.parametrize("text, pairs", [
    ("main contact is megan doyle, COO", [("COO", "megan doyle")]),
    ("IT lead there is raj mehta, technical evaluator, neutral so far", [("IT lead", "raj mehta")]),
    ("Director of IT Services is Samuel Achebe, technical, neutral", [("Director of IT Services", "Samuel Achebe")]),
    ("not quite - Jamal is procurement director, not finance director.", [("procurement director", "Jamal")]),
    ("Ian was there with his boss, MD Caroline Ashworth, and their reliability engineer Pete Sowerby.",
     [("MD", "Caroline Ashworth"), ("reliability engineer", "Pete Sowerby")]),
    ("Met Graham with Fiona Marsh (plant manager) and Ade Okafor from finance.", [("plant manager", "Fiona Marsh")]),
    ("Dan Whitmore is VP Operations, economic buyer, 55%.", [("VP Operations", "Dan Whitmore")]),
    ("Samuel, Prof. Laura Bennett (Deputy Vice-Chancellor) and Jamal", [("Deputy Vice-Chancellor", "Laura Bennett")]),
    ("Jonathan's boss is the MD, Rebecca Hale. she's the economic buyer", [("MD", "Rebecca Hale")]),
    ("quarrington's head of supply chain is Jonathan Pike", [("head of supply chain", "Jonathan Pike")]),
    # a title said of nobody, or no title at all
    ("the plant manager said downtime is the problem", []),
    ("she will manage the rollout", []),
    ("I need to talk to the director about budget", []),
    ("Ian Fairbairn, technical lead on the project", []),
    ("刘建国是技术总监", []),
])
def test_titles_are_taken_with_the_person_they_are_said_of(text, pairs):
    assert [(t.text, p.text) for t, p in titles_with_people(text)] == pairs


def test_a_learned_span_inside_a_title_is_dropped_and_the_title_names_its_person():
    text = "Director of IT Services is Samuel Achebe, technical, neutral"
    crf = [{"entity": "competitor", "value": "Services", "start": 16, "end": 24},
           {"entity": "person", "value": "Samuel Achebe", "start": 28, "end": 41}]
    out = with_titles(text, crf, "test")
    assert [(e["entity"], e["value"]) for e in out] == [("title", "Director of IT Services"),
                                                        ("person", "Samuel Achebe")]
    assert out[0]["person_hint"] == "Samuel Achebe"
