"""Names as keys the matcher can compare: folded, split into parts, clan spellings grouped.

A school writes "Giàng Thị Mỷ", the police "Giang Thi My", "Giàng Mỷ Thị" or "Giàng Thị Mỹ".
Folding (no diacritics, lower case) makes most of these equal; the surname variants that differ
in letters (Phàn/Bàn, Sùng/Xùng, Vàng/Vàn) are grouped through include/reference/name_variants.csv.
Everything here works on unique values: a commune's extract repeats the same few names
thousands of times.
"""

from __future__ import annotations

import csv
import re
from functools import cache, lru_cache
from pathlib import Path

from chuyencan.core.text import fold, is_missing, strip_diacritics

VARIANTS_CSV = Path(__file__).resolve().parents[3] / "include" / "reference" / "name_variants.csv"

_TOKEN_SPLIT = re.compile(r"[^0-9a-z]+")
# Words the police put in front of a village name that schools leave out (and the reverse).
_VILLAGE_PREFIXES = ("thon ", "ban ", "xom ", "lang ")


@cache
def surname_groups(path: Path = VARIANTS_CSV) -> dict[str, str]:
    """Folded spelling -> folded group key, e.g. 'ban' -> 'phan', 'xung' -> 'sung'."""
    groups: dict[str, str] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            groups[fold(row["spelling"])] = fold(row["group"])
    return groups


@lru_cache(maxsize=1 << 18)
def _fold_word(word: str) -> tuple[str, ...]:
    return tuple(t for t in _TOKEN_SPLIT.split(strip_diacritics(word).lower()) if t)


def tokens(value: object) -> list[str]:
    """'Giàng  A-Páo' -> ['giang', 'a', 'pao']. Folded word by word: names repeat few words."""
    if is_missing(value):
        return []
    out: list[str] = []
    for word in str(value).split():
        out.extend(_fold_word(word))
    return out


def split_name(value: object, groups: dict[str, str]) -> tuple[str, str, str, str, str]:
    """A full name -> (surname, surname group, middle, given, alt), all folded.

    `given` is the last word; `alt` is the second word of a name of three or more words, which
    is where the given name sits when a clerk typed "surname given middle". `middle` is every
    word between surname and given name (Kinh women can have two).
    """
    words = tokens(value)
    if not words:
        return "", "", "", "", ""
    surname = words[0]
    group = groups.get(surname, surname)
    if len(words) == 1:
        return surname, group, "", "", ""
    given = words[-1]
    middle = " ".join(words[1:-1])
    alt = words[1] if len(words) >= 3 else ""
    return surname, group, middle, given, alt


def village_key(value: object) -> str:
    """'Thôn Lao Chải' and 'Lao Chai' -> 'laochai'; blank -> ''."""
    words = " ".join(tokens(value))
    for prefix in _VILLAGE_PREFIXES:
        if words.startswith(prefix) and len(words) > len(prefix) + 2:
            words = words[len(prefix) :]
            break
    return words.replace(" ", "")


def within_one_edit(a: str, b: str) -> bool:
    """True when b is a one-letter slip of a: one deletion, insertion, substitution or swap."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1 or not a or not b:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    if la > lb:
        a, b = b, a
    # b is one letter longer than a: skip one letter of b.
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]
