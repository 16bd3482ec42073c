"""Cases and household records as integer arrays the matcher compares in bulk.

Both sides share one vocabulary of folded name words, so "the case's given name is the
record's second word" is an integer comparison. Text is folded once per distinct value.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from chuyencan.core.reference import commune_key
from chuyencan.police import names

_ID_DIGITS = 12
_NO_YEAR = -1


class Vocab:
    """Folded words -> small integers, shared by cases and residents ('' is missing: -1)."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.words: list[str] = []

    def codes(self, values: np.ndarray) -> np.ndarray:
        out = np.empty(len(values), dtype=np.int32)
        for i, value in enumerate(values):
            if not value:
                out[i] = -1
                continue
            code = self.index.get(value)
            if code is None:
                code = self.index[value] = len(self.words)
                self.words.append(value)
            out[i] = code
        return out

    def __len__(self) -> int:
        return len(self.words)


@dataclass
class NameCodes:
    surname: np.ndarray
    group: np.ndarray
    middle: np.ndarray
    given: np.ndarray
    alt: np.ndarray
    bag: np.ndarray  # the words in any order (names.name_parts): name-order variants share it
    outer: np.ndarray  # first and last words in any order (names.name_parts)


def name_codes(values: pd.Series, vocab: Vocab) -> NameCodes:
    """Word codes of each name, computed per distinct spelling then gathered."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    groups = names.surname_groups()
    parts = [names.name_parts(u, groups) for u in uniques]
    parts.append(("",) * 7)  # missing name (code -1 picks the last row)
    table = np.array(parts, dtype=object).reshape(len(parts), 7)
    coded = np.stack([vocab.codes(table[:, i]) for i in range(7)], axis=1)
    picked = coded[codes]
    return NameCodes(*(np.ascontiguousarray(picked[:, i]) for i in range(7)))


def _by_unique(values: pd.Series, fn) -> np.ndarray:
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.array([fn(u) for u in uniques] + [fn(None)], dtype=object)
    return mapped[codes]


def _text_codes(values: pd.Series, key, vocab: dict[str, int]) -> np.ndarray:
    """Codes of key(value) in a shared vocabulary, computed per distinct value; -1 when blank."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    keyed = [key(u) for u in uniques]
    coded = np.array([vocab.setdefault(k, len(vocab)) if k else -1 for k in keyed] + [-1], dtype=np.int32)
    return coded[codes]


def _dates(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day, day number) with -1 / 0 where unknown."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    parsed = pd.to_datetime(pd.Series(uniques, dtype=object), errors="coerce")
    known = parsed.notna().to_numpy()
    year = np.where(known, parsed.dt.year.fillna(0).to_numpy(), _NO_YEAR).astype(np.int16)
    month = np.where(known, parsed.dt.month.fillna(0).to_numpy(), 0).astype(np.int8)
    day = np.where(known, parsed.dt.day.fillna(0).to_numpy(), 0).astype(np.int8)
    number = np.where(known, parsed.to_numpy().astype("datetime64[D]").astype(np.int64), -1)
    append = lambda a, fill: np.append(a, np.array([fill], dtype=a.dtype))  # noqa: E731
    return (
        append(year, _NO_YEAR)[codes],
        append(month, 0)[codes],
        append(day, 0)[codes],
        append(number.astype(np.int32), -1)[codes],
    )


def _sex(values: pd.Series) -> np.ndarray:
    text = values.astype("string").str.strip().str.upper()
    male = (text == "M").fillna(False).to_numpy(dtype=bool)
    female = (text == "F").fillna(False).to_numpy(dtype=bool)
    return np.select([male, female], [0, 1], default=-1).astype(np.int8)


@dataclass
class PersonalIds:
    """12-digit IDs: number (for equality and blocking), digits (for near misses), validity."""

    number: np.ndarray  # int64, -1 when missing or not 12 digits
    digits: np.ndarray  # uint8 (n, 12)
    consistent: np.ndarray  # bool: digits 4-6 do not contradict the row's own sex and birth year


def personal_ids(values: pd.Series, year: np.ndarray, sex: np.ndarray) -> PersonalIds:
    """IDs of 12 digits (spaces, dots and dashes ignored); anything else counts as missing."""
    text = values.astype("string").str.replace(r"[\s.\-]", "", regex=True)
    ok = text.str.fullmatch(r"[0-9]{12}").fillna(False).to_numpy(dtype=bool)
    clean = np.where(ok, text.fillna("").to_numpy(dtype=object), "0" * _ID_DIGITS)
    raw = np.array(clean, dtype=f"S{_ID_DIGITS}")
    digits = (raw.view(np.uint8).reshape(len(raw), _ID_DIGITS) - 48).astype(np.uint8)
    number = np.where(ok, digits.astype(np.int64) @ (10 ** np.arange(_ID_DIGITS - 1, -1, -1)), -1)
    # Digit 4: 0/1 born 1900-1999 male/female, 2/3 born 2000-2099 male/female; digits 5-6: the
    # year's last two digits. What the row does not say (no year, no sex) is not held against it.
    d4 = digits[:, 3].astype(np.int64)
    known_year, known_sex = year >= 0, sex >= 0
    century_ok = ~known_year | (d4 // 2 == year.astype(np.int64) // 100 - 19)
    sex_ok = ~known_sex | (d4 % 2 == sex)
    year_ok = ~known_year | (digits[:, 4].astype(np.int64) * 10 + digits[:, 5] == year % 100)
    consistent = ok & century_ok & sex_ok & year_ok
    return PersonalIds(number, digits, consistent)


@dataclass
class Side:
    """One side of the linkage (cases or residents) as arrays; row i is the frame's row i."""

    n: int
    commune: np.ndarray
    year: np.ndarray
    month: np.ndarray
    day: np.ndarray
    daynum: np.ndarray
    sex: np.ndarray
    name: NameCodes
    village: np.ndarray
    ids: PersonalIds
    # Case side: the parent's name. Resident side: the household head's name.
    relative: NameCodes
    # Resident side: household by commune + village + head's name, and by commune + head's name;
    # household_of is the first when the record has a village, else the second.
    household: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    household_wide: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    household_of: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))


@dataclass
class Vocabularies:
    words: Vocab = field(default_factory=Vocab)
    communes: dict[str, int] = field(default_factory=dict)
    villages: dict[str, int] = field(default_factory=dict)


def prepare_cases(cases: pd.DataFrame, vocab: Vocabularies) -> Side:
    year, month, day, daynum = _dates(cases["birth_date"])
    sex = _sex(cases["sex"])
    return Side(
        n=len(cases),
        commune=_text_codes(cases["commune"], commune_key, vocab.communes),
        year=year,
        month=month,
        day=day,
        daynum=daynum,
        sex=sex,
        name=name_codes(cases["full_name"], vocab.words),
        village=_text_codes(cases["village"], names.village_key, vocab.villages),
        ids=personal_ids(cases["personal_id"], year, sex),
        relative=name_codes(cases["parent_name"], vocab.words),
    )


def prepare_residents(residents: pd.DataFrame, vocab: Vocabularies) -> Side:
    year, month, day, daynum = _dates(residents["birth_date"])
    if "birth_year" in residents:
        # The police often know only the year; a full date, when present, wins.
        known = pd.to_numeric(residents["birth_year"], errors="coerce").fillna(_NO_YEAR).to_numpy()
        year = np.where(year >= 0, year, known).astype(np.int16)
    sex = _sex(residents["sex"])
    commune = _text_codes(residents["commune"], commune_key, vocab.communes)
    head = (
        residents["household_head"] if "household_head" in residents else pd.Series([None] * len(residents))
    )
    head_key = _by_unique(head.reset_index(drop=True), lambda v: " ".join(names.tokens(v)))
    head_code = pd.factorize(head_key)[0].astype(np.int64)
    village = _text_codes(residents["village"], names.village_key, vocab.villages)
    # The extract has no household number: commune, village and the head's name stand in for it
    # (a common head name is shared by several households of a commune, rarely of a village).
    # Commune-wide households get codes of their own (an extra village slot past the last).
    n_heads = np.int64(head_code.max(initial=0) + 1)
    n_villages = np.int64(len(vocab.villages) + 2)
    by_village = (commune.astype(np.int64) * n_villages + village + 1) * n_heads + head_code
    wide = (commune.astype(np.int64) * n_villages + n_villages - 1) * n_heads + head_code
    codes = pd.factorize(np.concatenate([by_village, wide]))[0].astype(np.int64)
    has_head = head_key != ""
    household = np.where(has_head, codes[: len(residents)], -1)
    household_wide = np.where(has_head, codes[len(residents) :], -1)
    return Side(
        n=len(residents),
        commune=commune,
        year=year,
        month=month,
        day=day,
        daynum=daynum,
        sex=sex,
        name=name_codes(residents["full_name"], vocab.words),
        village=village,
        ids=personal_ids(residents["personal_id"], year, sex),
        relative=name_codes(head.reset_index(drop=True), vocab.words),
        household=household,
        household_wide=household_wide,
        household_of=np.where(village >= 0, household, household_wide),
    )


def take(side: Side, rows: np.ndarray) -> Side:
    """The rows of one side (every per-row array, nested ones included)."""

    def pick(value: object) -> object:
        if isinstance(value, np.ndarray) and len(value) == side.n:
            return value[rows]
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return dataclasses.replace(
                value, **{f.name: pick(getattr(value, f.name)) for f in dataclasses.fields(value)}
            )
        return value

    out = pick(side)
    assert isinstance(out, Side)
    return dataclasses.replace(out, n=len(rows))
