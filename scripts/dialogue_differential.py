"""Runs the same conversations through two trained models and compares what the bot did.

Used to decide whether a dialogue policy can go (config.yml): train a model without it, then

    .venv/bin/python scripts/dialogue_differential.py models/sales-coach.tar.gz /tmp/other.tar.gz

Each model gets its own action server and fresh SQLite databases. The conversations are every
form (and a role-play) interrupted by a training example of every intent, in English or
simplified Chinese, followed by "help" and an answer; every intent as the first message, after a
coaching answer, after a list and after a finished role-play; plus the load benchmark's mixed
conversations and a 60-turn long conversation. For every turn it records the actions run (with
the policy that chose them) and the reply texts, and prints how many turns differ and which
policies decided. Exit status 1 when any turn differs. Takes ≈ 3 min per model on 2 cores.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import json
import logging
import random
import re
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "scripts")]

import load_benchmark as lb  # noqa: E402

MARKUP = re.compile(r"\[([^\]]*)\](\([^)]*\)|\{[^}]*\})")
#: Messages that open each form (or a role-play) and leave something to ask.
OPENERS = ["add an account", "新建客户", "record a stakeholder", "log a meeting", "record a deal", "record a need",
           "客户说太贵了", "they went with a competitor last time", "scope change on the project", "客户投诉了",
           "qualify a lead", "they asked for a proposal", "calculate roi", "let's debrief", "帮我复盘一下刚才的会",
           "let's practise", '/start_roleplay{"scenario": "peak_capacity"}']


def examples(script: str) -> Dict[str, List[str]]:
    found: Dict[str, List[str]] = {}
    for path in sorted((REPO / "data" / "nlu" / script).glob("*.yml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
            if "intent" in item:
                found.setdefault(item["intent"], []).extend(
                    MARKUP.sub(r"\1", line[2:].strip()) for line in item["examples"].splitlines()
                    if line.startswith("- "))
    return found


def conversations(seed: int = 7) -> List[List[str]]:
    en, zh = examples("en"), examples("zh-Hans")
    out = [[text for _, text in lb.mix_conversation(i)] for i in range(4)]
    out.append([text for _, text in lb.long_conversation(60)])
    rnd = random.Random(seed)
    for opener in OPENERS:
        for intent in sorted(en):
            pool = en[intent] if rnd.random() < .5 or intent not in zh else zh[intent]
            lead = ["新建客户华东精密"] + (["let's practise"] if opener.startswith("/start") else [])
            out.append(lead + [opener, rnd.choice(pool), "help", rnd.choice(en["inform"])])
    def pick(intent: str) -> str:
        return rnd.choice(en[intent] if rnd.random() < .5 or intent not in zh else zh[intent])

    for intent in sorted(en):  # every intent first thing, and after a finished answer or a finished role-play
        out.append([pick(intent)])
        out.append(["what is SPIN?", pick(intent), pick(intent)])
        out.append(["新建客户华东精密", "list my accounts", pick(intent)])
        out.append(["let's practise", '/start_roleplay{"scenario": "peak_capacity"}', "end practice", pick(intent)])
    return out


async def play(model: Path, convs: List[List[str]]) -> List[List[Dict[str, Any]]]:
    with tempfile.TemporaryDirectory(prefix="differential-") as tmp:
        async with lb.in_process_agent(Path(tmp), model) as agent:
            result = []
            for number, conv in enumerate(convs):
                sender, seen, turns = f"diff-{number}", 0, []
                for text in conv:
                    replies = await agent.handle_text(text, sender_id=sender)
                    tracker = await agent.tracker_store.retrieve(sender)
                    new = [e.as_dict() for e in tracker.events][seen:]
                    seen = len(tracker.events)
                    actions = [(e["name"], (e.get("policy") or "").split("_")[-1]) for e in new
                               if e["event"] == "action" and e["name"] != "action_listen"]
                    turns.append({"text": text, "actions": actions, "replies": [r.get("text") for r in replies]})
                result.append(turns)
            return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model_a", type=Path)
    parser.add_argument("model_b", type=Path)
    parser.add_argument("--out", type=Path, help="write both runs as JSON here")
    args = parser.parse_args()
    lb.quiet_rasa_logs(logging.ERROR)
    convs = conversations()
    print(f"{len(convs)} conversations, {sum(map(len, convs))} turns per model", flush=True)
    runs = [asyncio.run(play(model, convs)) for model in (args.model_a, args.model_b)]
    if args.out:
        args.out.write_text(json.dumps(runs, ensure_ascii=False), encoding="utf-8")
    for model, run in zip((args.model_a, args.model_b), runs, strict=True):
        deciders = collections.Counter(policy or "-" for conv in run for turn in conv for _, policy in turn["actions"])
        print(f"{model}: actions decided by {dict(deciders)}")
    actions = replies = 0
    for number, (conv_a, conv_b) in enumerate(zip(*runs, strict=True)):
        for turn_a, turn_b in zip(conv_a, conv_b, strict=True):
            if [a for a, _ in turn_a["actions"]] != [b for b, _ in turn_b["actions"]]:
                actions += 1
                if actions <= 10:
                    print(f"  conversation {number}, {turn_a['text']!r}: {turn_a['actions']} vs {turn_b['actions']}")
            elif turn_a["replies"] != turn_b["replies"]:
                replies += 1
    print(f"turns with different actions: {actions}; same actions but different replies: {replies}")
    return 1 if actions or replies else 0


if __name__ == "__main__":
    sys.exit(main())
