"""Text normalisation shared by header matching, label matching and name handling.

Schools type Vietnamese with and without diacritics, in any case, with stray spaces; the
contract says headers and labels match "ignoring case, spacing and Vietnamese diacritics".
"""

from __future__ import annotations

import math
import numbers
import re
import unicodedata

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_SPACES = re.compile(r"\s+")
# Characters Excel users paste that are not ordinary spaces.
_INVISIBLE = dict.fromkeys(map(ord, "\u00a0\u2007\u202f\u200b\u200c\u200d\ufeff"), " ")
# Control characters pasted from other systems (Excel keeps them as `_x0007_` escapes): no one
# means them, PostgreSQL refuses NUL in text and openpyxl refuses them all when we write a sheet.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x9f]")


def strip_diacritics(value: str) -> str:
    """'Đặng Thị Mỷ' -> 'Dang Thi My'. đ/Đ are letters, not accents, so they need their own map."""
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def fold(value: object) -> str:
    """Matching key: no diacritics, lower case, only ASCII letters and digits.

    'Mã trường' -> 'matruong', 'ma_truong' -> 'matruong', 'Họ tên cha/mẹ' -> 'hotenchame'.
    """
    if is_missing(value):
        return ""
    return _NON_ALNUM.sub("", strip_diacritics(str(value)).lower())


def is_missing(value: object) -> bool:
    """None, NaN, pandas' NA and NaT: an empty cell, never the word "nan" or "na"."""
    if value is None:
        return True
    if isinstance(value, numbers.Real):  # numpy's floats too
        return math.isnan(value)
    # pandas' missing markers, recognised without importing pandas into every caller
    return type(value).__name__ in {"NAType", "NaTType"}


def clean_cell_text(value: str) -> str:
    """Trim, turn exotic spaces into plain ones and collapse runs of white space."""
    return _SPACES.sub(" ", _CONTROL.sub("", value.translate(_INVISIBLE))).strip()


def nfc(value: str) -> str:
    """Vietnamese typed on different keyboards arrives in NFC or NFD; store one form."""
    return unicodedata.normalize("NFC", value)


_DISPLAY_MAX = 80


def safe_display_name(relative_path: str) -> str:
    """A file's inbox path for a log line: no control characters or line breaks (a crafted
    name cannot forge log lines), one line, at most 80 characters (the middle elided)."""
    name = clean_cell_text(relative_path.replace("\n", " ").replace("\r", " ").replace("\t", " "))
    if len(name) > _DISPLAY_MAX:
        half = (_DISPLAY_MAX - 1) // 2
        name = f"{name[:half]}…{name[-half:]}"
    return name or "(unnamed)"


def rule_codes(rules: list[str] | tuple[str, ...], limit: int = 8) -> str:
    """'header_missing, si_so_negative ×3' : distinct rule codes with counts, never values."""
    counts: dict[str, int] = {}
    for rule in rules:
        counts[rule] = counts.get(rule, 0) + 1
    parts = [f"{r} ×{n}" if n > 1 else r for r, n in counts.items()]
    more = len(parts) - limit
    return ", ".join(parts[:limit]) + (f", +{more} more" if more > 0 else "") if parts else "-"
