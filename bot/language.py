"""Language and script: detection, normalisation, output conversion.

One detector for the whole product. The NLU pipeline normalises traditional
Chinese to simplified *character by character*, so the text keeps its length and
entity offsets found on the normalised text are valid on the original.
Replies are written in simplified Chinese and converted to traditional with
OpenCC's phrase-level converter for traditional-script users.
"""
from __future__ import annotations

import os
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Dict, Optional

EN = "en"
ZH_HANS = "zh-Hans"
ZH_HANT = "zh-Hant"
LANGUAGES = (EN, ZH_HANS, ZH_HANT)

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")

# Function characters that mark a Chinese sentence frame (names rarely use them).
_ZH_FRAME = set("的了是在说吗呢吧我你您他她它们这那有和跟给把被要会不没也都就还很又再帮请什么怎么哪谁个让对为从到")
_EN_FRAME = {
    "i", "me", "my", "we", "our", "you", "your", "he", "she", "him", "her", "his", "they",
    "them", "their", "it", "its", "is", "are", "was", "were", "be", "been", "am", "the",
    "a", "an", "to", "of", "in", "on", "at", "for", "with", "and", "or", "but", "not",
    "what", "how", "who", "which", "when", "why", "can", "could", "should", "would",
    "will", "do", "does", "did", "have", "has", "had", "please", "this", "that", "there",
    "about", "from", "just", "let", "let's", "show", "tell", "give", "say", "says", "said",
}


def without_nul(text: str) -> str:
    """Text as stored and passed on: NUL characters removed (PostgreSQL refuses them), nothing else."""
    return text.replace("\x00", "")


@lru_cache(maxsize=1)
def _ts_table() -> Dict[str, str]:
    """Traditional → simplified, single characters only (length preserving)."""
    import opencc

    path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    table: Dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or "\t" not in line:
            continue
        trad, simp = line.split("\t", 1)
        simp = simp.split(" ")[0]
        if len(trad) == 1 and len(simp) == 1 and trad != simp:
            table[trad] = simp
    return table


@lru_cache(maxsize=1)
def _st_sources() -> frozenset:
    """Characters that have a distinct traditional form (i.e. are simplified-only)."""
    import opencc

    path = Path(opencc.__file__).parent / "dictionary" / "STCharacters.txt"
    chars = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if "\t" not in line:
            continue
        simp, trad = line.split("\t", 1)
        if len(simp) == 1 and trad.split(" ")[0] != simp:
            chars.add(simp)
    return frozenset(chars)


@lru_cache(maxsize=1)
def _trad_only() -> frozenset:
    return frozenset(c for c in _ts_table() if c not in _st_sources())


@lru_cache(maxsize=1)
def _regional_terms() -> "tuple[re.Pattern, Dict[str, str]]":
    """Taiwan/Hong Kong terms → mainland terms of the same length (專案 → 項目, 軟體 → 軟件).

    From OpenCC's TWPhrasesRev plus the sales glossary in data/lexicon/tw_terms.txt;
    only same-length pairs, so entity offsets stay valid, and from OpenCC only terms
    written with a traditional-only character (its list also maps shared words such as
    核心 → 內核, which would change the meaning of ordinary text).
    """
    import opencc

    from bot import REPO_DIR

    pairs: Dict[str, str] = {}
    path = Path(opencc.__file__).parent / "dictionary" / "TWPhrasesRev.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        if "\t" in line:
            tw, mainland = line.split("\t", 1)
            mainland = mainland.split(" ")[0]
            if len(tw) == len(mainland) and len(tw) >= 2 and tw != mainland and any(
                    ch in _trad_only() for ch in tw):
                pairs[tw] = mainland
    glossary = REPO_DIR / "data" / "lexicon" / "tw_terms.txt"
    for line in glossary.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#") and "\t" in line:
            tw, mainland = line.split("\t", 1)
            if len(tw) == len(mainland.strip()):
                pairs[tw] = mainland.strip()
    pattern = re.compile("|".join(re.escape(k) for k in sorted(pairs, key=len, reverse=True)))
    return pattern, pairs


def to_simplified(text: str) -> str:
    """Converts traditional (and Taiwan/HK wording) to simplified, keeping the text's length."""
    pattern, pairs = _regional_terms()
    text = pattern.sub(lambda m: pairs[m.group(0)], text)
    table = _ts_table()
    return "".join(table.get(ch, ch) for ch in text)


def script_counts(text: str) -> tuple[int, int]:
    """Returns (traditional-only characters, simplified-only characters)."""
    trad_only = _trad_only()
    simp_only = _st_sources()
    trad = sum(1 for ch in text if ch in trad_only)
    simp = sum(1 for ch in text if ch in simp_only and ch not in _ts_table())
    return trad, simp


def detect(text: Optional[str]) -> Optional[str]:
    """Detects the language and script a message is written in.

    Args:
        text: the user's message.

    Returns:
        ``"en"``, ``"zh-Hans"`` or ``"zh-Hant"``; ``None`` when the text has no
        letters of either language (a number, an emoji), so the caller keeps the
        language already in use.
    """
    if not text:
        return None
    text = unicodedata.normalize("NFKC", text)
    han = _HAN.findall(text)
    words = [w.lower() for w in _LATIN_WORD.findall(text)]
    if not han and not words:
        return None
    if han:
        zh_frame = sum(1 for ch in han if ch in _ZH_FRAME)
        en_frame = sum(1 for w in words if w in _EN_FRAME)
        zh_score = zh_frame + 0.3 * (len(han) - zh_frame) / 2
        en_score = en_frame + 0.3 * (len(words) - en_frame)
        if words and en_score > zh_score and en_frame >= 1:
            return EN
        trad, simp = script_counts(text)
        return ZH_HANT if trad > simp else ZH_HANS
    return EN


def base_language(lang: Optional[str]) -> str:
    """Maps a language tag to the key used in content files: ``en`` or ``zh``."""
    return "zh" if lang and lang.startswith("zh") else "en"


@lru_cache(maxsize=1)
def _s2t():
    import opencc

    return opencc.OpenCC(os.environ.get("TRADITIONAL_VARIANT", "s2t"))


def to_script(text: str, lang: Optional[str]) -> str:
    """Converts simplified Chinese output to the user's script."""
    if lang == ZH_HANT and text:
        return _s2t().convert(text)
    return text


def name_key(name: str) -> str:
    """Lookup key for a name: NFKC, simplified, case-folded, no spaces or punctuation."""
    name = to_simplified(unicodedata.normalize("NFKC", name or ""))
    name = name.casefold()
    return re.sub(r"[\s\.\,·•'\"“”‘’()（）\-_/]+", "", name)
