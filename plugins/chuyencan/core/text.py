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
