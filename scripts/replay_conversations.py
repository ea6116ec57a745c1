"""Replays the conversation corpus through the running bot's REST channel and scores what it stored.

    . scripts/env.sh && .venv/bin/python scripts/replay_conversations.py tests/conversations/test
    .venv/bin/python scripts/replay_conversations.py tests/conversations/dev --show 5 --json out.json

Needs the bot running (`make run`: REST on 127.0.0.1:5005) and reads its account store
(`DATABASE_URL`, default var/sales_coach.db). Each conversation gets a fresh sender, so its own
solo team. Prints, per script (en, zh-Hans, zh-Hant, mixed) and overall: fact precision and
recall (scripts/conversation_metrics.py), duplicates, facts in the wrong account or person,
unintended deletions (an expected person or account that existed at some turn and is gone at
the end), and stuck turns (no reply, a failure reply, or a third fallback in a row).
"""
from __future__ import annotations

import argparse
import json
import sys
import urllib.request
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, List

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import i18n  # noqa: E402
from bot.identity import caller_from  # noqa: E402
from bot.store import AccountStore  # noqa: E402
from bot.store.db import database_url, make_session_factory  # noqa: E402
from scripts.conversation_metrics import Tally, compare, present_entities, unintended_deletions  # noqa: E402

SCRIPTS = ("en", "zh-Hans", "zh-Hant", "mixed")
FAILURE_KEYS = ("fault_try_again", "fault_timeout", "fault_history_load", "fault_history_save", "error_generic",
                "error_unavailable")


def _starts(key: str) -> List[str]:
    return [i18n.render(key, lang)[:14] for lang in ("en", "zh-Hans", "zh-Hant")]


FALLBACKS = _starts("fallback") + _starts("fallback_in_form")
FAILURES = [s for key in FAILURE_KEYS for s in _starts(key)]


def say(rasa: str, sender: str, text: str) -> List[Dict[str, Any]]:
    body = json.dumps({"sender": sender, "message": text}).encode()
    req = urllib.request.Request(f"{rasa}/webhooks/rest/webhook", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=180) as resp:
        return json.load(resp)


def snapshot(store: AccountStore, sender: str) -> Dict[str, Any]:
    who = caller_from(sender, "rest", {})
    out: Dict[str, Any] = {}
    with store.team(who.team_key, who.user_key) as scope:
        for account in scope.list_accounts():
            opp = scope.opportunity(account, create=False)
            out[account.name] = {
                "industry": account.industry,
                "people": {p.name: {"title": p.title, "roles": p.roles, "attitude": p.attitude,
                                    "influence": p.influence, "relationship": p.relationship_stage}
                           for p in account.stakeholders},
                "deal": {"stage": opp.purchase_stage, "budget": opp.budget, "timeline": opp.timeline,
                         "competitors": opp.competitor_list} if opp else {},
                "needs": [n.description for n in account.needs],
                "meetings": [i.occurred_at.astimezone().date() if i.occurred_at.tzinfo else i.occurred_at.date()
                             for i in account.interactions],
            }
    return out


def replay(conv: Dict[str, Any], rasa: str, store: AccountStore) -> tuple[Tally, List[Dict[str, Any]]]:
    sender = f"replay-{conv.get('id', 'x')}-{uuid.uuid4().hex[:6]}"
    today = datetime.now().date()
    transcript: List[Dict[str, Any]] = []
    seen: List[set] = []
    tally = Tally()
    fallbacks_in_a_row = 0
    expect = conv.get("expect") or {}
    for text in conv.get("turns") or []:
        replies = say(rasa, sender, str(text))
        texts = [r.get("text") or "" for r in replies]
        transcript.append({"rep": text, "bot": texts})
        tally.turns += 1
        fallback = any(t.startswith(tuple(FALLBACKS)) for t in texts)
        fallbacks_in_a_row = fallbacks_in_a_row + 1 if fallback else 0
        if not any(t.strip() for t in texts) and not any(r.get("image") or r.get("buttons") for r in replies):
            tally.stuck_turns += 1
            tally.problems.append(f"no reply to {text!r}")
        elif any(t.startswith(tuple(FAILURES)) for t in texts):
            tally.stuck_turns += 1
            tally.problems.append(f"failure reply to {text!r}")
        elif fallbacks_in_a_row >= 3:
            tally.stuck_turns += 1
            tally.problems.append(f"third fallback in a row at {text!r}")
        seen.append(present_entities(expect, snapshot(store, sender)))
    final_state = snapshot(store, sender)
    result = compare(expect, final_state, today)
    lost = unintended_deletions(seen, present_entities(expect, final_state))
    result.unintended_deletions += len(lost)
    result.problems += [f"{kind} {name!r} existed and was lost" for kind, name in lost]
    tally.add(result)
    transcript.append({"state": {k: {**v, "meetings": [str(d) for d in v["meetings"]]}
                                 for k, v in final_state.items()}})
    return tally, transcript


def load(paths: List[str]) -> List[Dict[str, Any]]:
    files: List[Path] = []
    for p in paths:
        path = Path(p)
        files += sorted(path.glob("*.yml")) if path.is_dir() else [path]
    return [yaml.safe_load(f.read_text(encoding="utf-8")) | {"_file": str(f)} for f in files]


def row(name: str, t: Tally, count: int) -> str:
    return (f"| {name} | {count} | {t.turns} | {t.precision:.3f} ({t.correct_stored}/{t.stored}) | "
            f"{t.recall:.3f} ({t.found}/{t.expected}) | {t.duplicates} | {t.wrong_place} | "
            f"{t.unintended_deletions} | {t.stuck_turns} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="+", help="corpus folders or files")
    parser.add_argument("--rasa", default="http://127.0.0.1:5005")
    parser.add_argument("--db", default=None, help="the bot's DATABASE_URL (default: this checkout's)")
    parser.add_argument("--show", type=int, default=0, help="print the problems of up to N conversations")
    parser.add_argument("--json", default=None, help="write transcripts and problems here")
    args = parser.parse_args()
    store = AccountStore(make_session_factory(args.db or database_url()))
    per_script: Dict[str, Tally] = {s: Tally() for s in SCRIPTS}
    counts: Dict[str, int] = {s: 0 for s in SCRIPTS}
    report = []
    for conv in load(args.paths):
        script = conv.get("script") if conv.get("script") in SCRIPTS else "mixed"
        tally, transcript = replay(conv, args.rasa, store)
        per_script[script].add(tally)
        counts[script] += 1
        report.append({"id": conv.get("id"), "script": script, "problems": tally.problems, "transcript": transcript})
        print(f"{conv.get('id')}: P {tally.precision:.2f} R {tally.recall:.2f} dup {tally.duplicates} "
              f"wrong {tally.wrong_place} lost {tally.unintended_deletions} stuck {tally.stuck_turns}", flush=True)
    total = Tally()
    for t in per_script.values():
        total.add(t)
    print("\n| script | conversations | turns | fact precision | fact recall | duplicates | wrong account/person "
          "| unintended deletions | stuck turns |")
    print("|---|---|---|---|---|---|---|---|---|")
    for s in SCRIPTS:
        if counts[s]:
            print(row(s, per_script[s], counts[s]))
    print(row("all", total, sum(counts.values())))
    shown = [r for r in report if r["problems"]][:args.show]
    for r in shown:
        print(f"\n{r['id']} ({r['script']}):")
        for problem in r["problems"]:
            print(f"  - {problem}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
