"""Free text that schools and police write, sorted into the report's codes by reviewed phrases.

Schools write a dropout's reason (`ly_do`) and where the child went (`noi_den`) in their own
words; the police extract names a destination and a workplace. The fortnightly report counts
them by the codes of docs/contracts.md#5-warehouse (`cause`, `destination`, `workplace_kind`), so each text is
matched against phrase rules kept as data, reviewed like the rest of the reference data:

    include/reference/cause_phrases.csv   category, phrase, priority, note
    include/reference/place_phrases.csv   dimension, category, phrase, priority, note

Matching ignores diacritics, case and punctuation (people type "lay chong som" as often as
"Lấy chồng sớm"), and a phrase matches whole words only. A phrase starting with "=" must be
the whole text. When several phrases match, the highest priority wins, then the longest phrase
(so "đi lại khó khăn" is distance, not poverty), then the file's order. A text no rule matches
falls into the fallback category and is listed for the district to extend the rules.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from chuyencan.core.settings import REFERENCE_DIR
from chuyencan.core.text import strip_diacritics
from chuyencan.report.dimensions import CAUSES, DESTINATIONS, WORKPLACES

FALLBACK = {"cause": "khac", "destination": "chua_ro", "workplace_kind": "khong_ro"}
CATEGORIES = {"cause": CAUSES, "destination": DESTINATIONS, "workplace_kind": WORKPLACES}

_NOT_WORD = re.compile(r"[^a-z0-9]+")


def words(text: str) -> str:
    """' lay chong som ': folded, one space between words and around the whole."""
    return f" {_NOT_WORD.sub(' ', strip_diacritics(text).lower()).strip()} "


@dataclass(frozen=True)
class Rule:
    category: str
    phrase: str  # as written in the file
    priority: int

    @property
    def whole(self) -> bool:
        return self.phrase.startswith("=")

    @property
    def key(self) -> str:
        return words(self.phrase.removeprefix("="))


@dataclass(frozen=True)
class Match:
    category: str
    rule: Rule | None  # None: no rule matched, the fallback category


class PhraseRules:
    def __init__(self, dimension: str, rules: Iterable[Rule]) -> None:
        self.dimension = dimension
        self.fallback = FALLBACK[dimension]
        allowed = set(CATEGORIES[dimension])
        ordered = list(rules)
        unknown = sorted({r.category for r in ordered} - allowed)
        if unknown:
            raise ValueError(f"{dimension} phrase rules name unknown categories: {', '.join(unknown)}")
        # Best first: priority, then length; the file's order breaks the remaining ties.
        self.rules = tuple(
            r for _, r in sorted(enumerate(ordered), key=lambda p: (-p[1].priority, -len(p[1].key), p[0]))
        )

    def match(self, text: str | None) -> Match:
        if not text or not text.strip():
            return Match(self.fallback, None)
        key = words(text)
        for rule in self.rules:
            if (key == rule.key) if rule.whole else (rule.key in key):
                return Match(rule.category, rule)
        return Match(self.fallback, None)

    def classify(self, text: str | None) -> str:
        return self.match(text).category

    def unclassified(self, texts: Iterable[str | None]) -> dict[str, int]:
        """Texts no rule matched, with how often each occurs (blank texts are not listed)."""
        out: dict[str, int] = {}
        for text in texts:
            if text and text.strip() and self.match(text).rule is None:
                cleaned = " ".join(text.split())
                out[cleaned] = out.get(cleaned, 0) + 1
        return out


def _rows(path: Path) -> list[Mapping[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@cache
def cause_rules(directory: Path = REFERENCE_DIR) -> PhraseRules:
    rows = _rows(directory / "cause_phrases.csv")
    return PhraseRules("cause", (Rule(r["category"], r["phrase"], int(r["priority"] or 1)) for r in rows))


@cache
def place_rules(dimension: str, directory: Path = REFERENCE_DIR) -> PhraseRules:
    rows = [r for r in _rows(directory / "place_phrases.csv") if r["dimension"] == dimension]
    return PhraseRules(dimension, (Rule(r["category"], r["phrase"], int(r["priority"] or 1)) for r in rows))
