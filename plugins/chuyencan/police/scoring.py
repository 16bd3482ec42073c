"""Fellegi–Sunter comparison of candidate pairs: levels per field, m/u probabilities, weights.

Each field of a (case, record) pair gets an agreement level. A level's weight is
log2(m / u): m = how often a true match shows that level, u = how often a random record of the
case's commune does. For exact agreement on a name, village or household head, u is the
value's own frequency in the commune (term frequency), so agreeing on "Giàng" (a quarter of
some communes) is weak evidence and agreeing on a rare surname strong. u for the other levels
comes from random same-commune pairs; m from pairs anchored by a matching personal ID (or,
without enough IDs, from the confident matches of a first pass).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from chuyencan.police.names import within_one_edit
from chuyencan.police.records import NameCodes, Side

FIELDS = (
    "personal_id",
    "surname",
    "given_name",
    "middle_name",
    "birth_date",
    "sex",
    "commune",
    "village",
    "parent",
)
NULL = -1

# Levels, highest = strongest agreement. The first level (0) is always disagreement.
ID_DIFFER, ID_NEAR, ID_EXACT = 0, 1, 2
NAME_OTHER, NAME_ONE_EDIT, NAME_VARIANT, NAME_EXACT = 0, 1, 2, 3  # given: VARIANT = word order
BIRTH_FAR, BIRTH_WINDOW, YEAR_ONLY_NEAR, YEAR_ONLY_SAME, BIRTH_CLOSE, BIRTH_SWAP, BIRTH_EXACT = range(7)
PARENT_OTHER, PARENT_SURNAME, PARENT_NEAR, PARENT_MEMBER, PARENT_HEAD = 0, 1, 2, 3, 4

N_LEVELS = {
    "personal_id": 3,
    "surname": 4,
    "given_name": 4,
    "middle_name": 2,
    "birth_date": 7,
    "sex": 2,
    "commune": 2,
    "village": 2,
    "parent": 5,
}
# The lowest level that counts as agreement when the officer is told which fields agreed.
AGREE_FROM = {
    "personal_id": ID_NEAR,
    "surname": NAME_ONE_EDIT,
    "given_name": NAME_ONE_EDIT,
    "middle_name": 1,
    "birth_date": YEAR_ONLY_NEAR,  # a year-only record within a year of the school's date
    "sex": 1,
    "commune": 1,
    "village": 1,
    "parent": PARENT_NEAR,
}
# Fields whose top level uses the value's frequency in the commune as u.
TF_FIELDS = ("surname", "given_name", "middle_name", "village", "parent", "commune")

# What a true match looks like before the data say otherwise (Dirichlet prior for m).
PRIOR_M: dict[str, tuple[float, ...]] = {
    "personal_id": (0.01, 0.03, 0.96),
    "surname": (0.02, 0.04, 0.06, 0.88),
    "given_name": (0.02, 0.05, 0.03, 0.90),
    "middle_name": (0.05, 0.95),
    "birth_date": (0.005, 0.02, 0.005, 0.06, 0.02, 0.01, 0.88),
    "sex": (0.01, 0.99),
    "commune": (0.02, 0.98),
    "village": (0.03, 0.97),
    "parent": (0.05, 0.08, 0.04, 0.25, 0.58),
}
PRIOR_STRENGTH = 20.0  # pseudo-pairs behind PRIOR_M
# u of an exact personal-ID agreement between different people: IDs are unique, so only a
# mistyped ID agrees by chance; the floor keeps one field from deciding alone.
U_ID_EXACT = 1e-7
U_FLOOR = 3e-5
TF_FLOOR = 1e-3


class FuzzyWords:
    """Is word b a one-letter slip of word a? Decided once per distinct word pair."""

    def __init__(self, words: list[str]) -> None:
        self.words = words
        self.length = np.array([len(w) for w in words] + [0], dtype=np.int16)
        self.first = np.array([ord(w[0]) if w else 0 for w in words] + [0], dtype=np.int32)
        self.cache: dict[int, bool] = {}

    def near(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.zeros(len(a), dtype=bool)
        # A slip rarely hits the first letter and never changes the length by more than one.
        maybe = (
            (a >= 0)
            & (b >= 0)
            & (a != b)
            & (np.abs(self.length[a] - self.length[b]) <= 1)
            & (self.first[a] == self.first[b])
        )
        idx = np.flatnonzero(maybe)
        if len(idx) == 0:
            return out
        width = np.int64(len(self.words) + 1)
        key = a[idx].astype(np.int64) * width + b[idx]
        uniq, inverse = np.unique(key, return_inverse=True)
        verdict = np.empty(len(uniq), dtype=bool)
        words, cache = self.words, self.cache
        for i, k in enumerate(uniq.tolist()):
            hit = cache.get(k)
            if hit is None:
                hit = cache[k] = within_one_edit(words[k // width], words[k % width])
            verdict[i] = hit
        out[idx] = verdict[inverse]
        return out


@dataclass
class Pairs:
    case: np.ndarray  # row in the cases frame
    resident: np.ndarray  # row in the residents frame


def _null_if(level: np.ndarray, missing: np.ndarray) -> np.ndarray:
    level[missing] = NULL
    return level


def _id_levels(c: Side, r: Side, p: Pairs) -> np.ndarray:
    cn, rn = c.ids.number[p.case], r.ids.number[p.resident]
    level = np.full(len(p.case), ID_DIFFER, dtype=np.int8)
    both = (cn >= 0) & (rn >= 0)
    idx = np.flatnonzero(both & (cn != rn))
    if len(idx):
        da, db = c.ids.digits[p.case[idx]], r.ids.digits[p.resident[idx]]
        diff = da != db
        n_diff = diff.sum(axis=1)
        one = n_diff == 1
        # Two neighbouring digits swapped.
        first = diff.argmax(axis=1)
        nxt = np.minimum(first + 1, da.shape[1] - 1)
        rows = np.arange(len(idx))
        swapped = (
            (n_diff == 2)
            & diff[rows, nxt]
            & (da[rows, first] == db[rows, nxt])
            & (da[rows, nxt] == db[rows, first])
        )
        level[idx[one | swapped]] = ID_NEAR
    same = both & (cn == rn)
    # An ID that contradicts the case's own birth year or sex was mistyped somewhere: it
    # counts as a near miss, never as proof.
    level[same] = np.where(c.ids.consistent[p.case[same]], ID_EXACT, ID_NEAR)
    return _null_if(level, ~both)


def _surname_levels(a: NameCodes, b: NameCodes, ai, bi, fuzzy: FuzzyWords) -> np.ndarray:
    sa, sb = a.surname[ai], b.surname[bi]
    level = np.full(len(ai), NAME_OTHER, dtype=np.int8)
    level[fuzzy.near(sa, sb)] = NAME_ONE_EDIT
    level[a.group[ai] == b.group[bi]] = NAME_VARIANT
    level[sa == sb] = NAME_EXACT
    return _null_if(level, (sa < 0) | (sb < 0))


def _given_levels(a: NameCodes, b: NameCodes, ai, bi, fuzzy: FuzzyWords) -> np.ndarray:
    ga, gb = a.given[ai], b.given[bi]
    level = np.full(len(ai), NAME_OTHER, dtype=np.int8)
    level[fuzzy.near(ga, gb)] = NAME_ONE_EDIT
    # "Surname given middle": the given name sits second and the middle name (a slip allowed)
    # last. A given name that is merely someone's middle name is not a swap: Hà Nhì children
    # carry their father's given name as their middle name.
    ma = a.middle[ai]
    moved = (ga == b.alt[bi]) & (ga >= 0) & (ma >= 0)
    idx = np.flatnonzero(moved)
    moved[idx] = (ma[idx] == gb[idx]) | fuzzy.near(ma[idx], gb[idx])
    level[moved] = NAME_VARIANT
    level[ga == gb] = NAME_EXACT
    return _null_if(level, (ga < 0) | (gb < 0))


def _middle_levels(a: NameCodes, b: NameCodes, ai, bi, given: np.ndarray) -> np.ndarray:
    ma, mb = a.middle[ai], b.middle[bi]
    # With the word order swapped, the record's middle name is its last word (a record of two
    # words has none).
    mb = np.where((given == NAME_VARIANT) & (b.alt[bi] >= 0), b.given[bi], mb)
    level = (ma == mb).astype(np.int8)
    return _null_if(level, (ma < 0) | (mb < 0))


def _birth_levels(c: Side, r: Side, p: Pairs) -> np.ndarray:
    ci, ri = p.case, p.resident
    cy, ry = c.year[ci].astype(np.int32), r.year[ri].astype(np.int32)
    dy = np.abs(cy - ry)
    full = r.daynum[ri] >= 0
    dd = np.abs(c.daynum[ci] - r.daynum[ri])
    cm, cd, rm, rd = c.month[ci], c.day[ci], r.month[ri], r.day[ri]
    level = np.full(len(ci), BIRTH_FAR, dtype=np.int8)
    level[full & (dy <= 1)] = BIRTH_WINDOW
    # A few days off, or one year off in the same month (a slip in the year, the day kept or
    # nearly: clerks replace an impossible 29-31 by the month's last safe day).
    year_slip = (dy == 1) & (cm == rm) & (np.abs(cd.astype(np.int16) - rd) <= 3)
    level[full & ((dd <= 7) | year_slip)] = BIRTH_CLOSE
    level[full & (dy == 0) & (cm == rd) & (cd == rm)] = BIRTH_SWAP
    level[full & (dd == 0)] = BIRTH_EXACT
    year_only = ~full & (ry >= 0)
    level[year_only & (dy == 1)] = YEAR_ONLY_NEAR
    level[year_only & (dy == 0)] = YEAR_ONLY_SAME
    return _null_if(level, (cy < 0) | (ry < 0))


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _null_if((a == b).astype(np.int8), (a < 0) | (b < 0))


def _mix(*columns: np.ndarray) -> np.ndarray:
    """One 64-bit key from several integer columns (collisions are negligible at our sizes)."""
    key = np.zeros(len(columns[0]), dtype=np.uint64)
    for col in columns:
        key = key * np.uint64(0x9E3779B97F4A7C15) + (col.astype(np.int64) + 2).astype(np.uint64)
    return key


class _KeyCounts:
    """How many times each 64-bit key occurs; hashed, since probes come in random order."""

    def __init__(self, keys: np.ndarray) -> None:
        unique, counts = np.unique(keys, return_counts=True)
        self.index = pd.Index(unique)
        self.counts = np.append(counts, 0)  # position -1 (not found) reads 0

    def count(self, probe: np.ndarray) -> np.ndarray:
        return self.counts[self.index.get_indexer(probe)]


def reordered(a: NameCodes, ai: np.ndarray, b: NameCodes, bi: np.ndarray) -> np.ndarray:
    """The same words in another order, or b is two words: a's surname and given name in another
    order ("Páo Giàng A" or "Páo Giàng" for "Giàng A Páo"; clan spellings grouped)."""
    bag = a.bag[ai]
    same_words = (bag >= 0) & (bag == b.bag[bi])
    outer = a.outer[ai]
    two_words = (outer >= 0) & (outer == b.outer[bi]) & (b.middle[bi] < 0) & (b.alt[bi] < 0)
    return same_words | two_words


def names_agree(a: NameCodes, ai: np.ndarray, b: NameCodes, bi: np.ndarray) -> np.ndarray:
    """Same person's name up to diacritics, clan spelling, word order and a dropped middle name."""
    ag, agiven, am = a.group[ai], a.given[ai], a.middle[ai]
    bg, bgiven, balt, bm = b.group[bi], b.given[bi], b.alt[bi], b.middle[bi]
    direct = (agiven == bgiven) & ((am == bm) | (am < 0) | (bm < 0))
    swapped = (agiven == balt) & (balt >= 0) & (am == bgiven) & (am >= 0)
    return (ag == bg) & (ag >= 0) & (agiven >= 0) & (direct | swapped)


class MemberIndex:
    """Names present in each household: finds the case's parent among the record's household
    (the mother, or the father when a grandparent heads the household), middle name included
    (Hà Nhì fathers' given names become their children's middle names, so two fathers often
    share the given name and differ only in the middle one). The record itself never counts as
    its own parent."""

    NONE = -1

    def __init__(self, r: Side) -> None:
        self.r = r
        # Everyone is filed under their village's household; those without a village (and
        # everyone again) under the commune-wide one, which a record without a village uses.
        full, any_middle = self._keys(np.arange(r.n))
        wide, wide_any = self._keys(np.arange(r.n), commune_wide=True)
        self.full = _KeyCounts(np.concatenate(full + wide))
        self.any_middle = _KeyCounts(np.concatenate(any_middle + wide_any))

    def _keys(
        self, rows: np.ndarray, *, commune_wide: bool = False
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Each row's name as (household, group, given, middle) keys, in both word orders, and
        as (household, group, given) keys; invalid rows give a key that is never probed."""
        r, n = self.r, self.r.name
        hh, group, given, alt, middle = (
            r.household_wide[rows] if commune_wide else r.household_of[rows],
            n.group[rows],
            n.given[rows],
            n.alt[rows],
            n.middle[rows],
        )
        ok = (hh >= 0) & (group >= 0) & (given >= 0)
        swapped = ok & (alt >= 0)
        never = np.uint64(0)
        full = [
            np.where(ok, _mix(hh, group, given, middle), never),
            np.where(swapped, _mix(hh, group, alt, given), never),
        ]
        # (Not the swapped order without a middle name: "Chu Mò" is not "Chu Mò Sơ", whose
        # middle name is his father's given name.)
        any_middle = [np.where(ok, _mix(hh, group, given), never)]
        return full, any_middle

    def contains(self, resident: np.ndarray, name: NameCodes, rows: np.ndarray) -> np.ndarray:
        """Is the name of case row `rows` someone else's in resident `resident`'s household?"""
        household = self.r.household_of[resident]
        group, given, middle = name.group[rows], name.given[rows], name.middle[rows]
        found = np.zeros(len(rows), dtype=bool)
        usable = (household >= 0) & (group >= 0) & (given >= 0)
        # A parent written with a middle name: the same full name, or the police dropped it.
        sel = np.flatnonzero(usable & (middle >= 0))
        if len(sel):
            own_full, _ = self._keys(resident[sel])
            h, g, gv = household[sel], group[sel], given[sel]
            for probe in (_mix(h, g, gv, middle[sel]), _mix(h, g, gv, np.full(len(sel), self.NONE))):
                own = sum((probe == k).astype(np.int64) for k in own_full)
                found[sel] |= self.full.count(probe) - own > 0
        # Written without one: any middle name will do.
        sel = np.flatnonzero(usable & (middle < 0))
        if len(sel):
            _, own_any = self._keys(resident[sel])
            probe = _mix(household[sel], group[sel], given[sel])
            own = sum((probe == k).astype(np.int64) for k in own_any)
            found[sel] = self.any_middle.count(probe) - own > 0
        return found


def names_near(a: NameCodes, ai: np.ndarray, b: NameCodes, bi: np.ndarray, fuzzy: FuzzyWords) -> np.ndarray:
    """The same name but for a slip in the surname, middle or given name (a different middle
    name is a different person: Hà Nhì brothers' sons share the given name Mò, say)."""
    surname = (a.group[ai] == b.group[bi]) | fuzzy.near(a.surname[ai], b.surname[bi])
    given = (a.given[ai] == b.given[bi]) | fuzzy.near(a.given[ai], b.given[bi])
    ma, mb = a.middle[ai], b.middle[bi]
    middle = (ma == mb) | (ma < 0) | (mb < 0) | fuzzy.near(ma, mb)
    return surname & given & middle & (a.given[ai] >= 0) & (a.group[ai] >= 0)


def _parent_levels(c: Side, r: Side, p: Pairs, members: MemberIndex, fuzzy: FuzzyWords) -> np.ndarray:
    ci, ri = p.case, p.resident
    level = np.full(len(ci), PARENT_OTHER, dtype=np.int8)
    level[c.relative.group[ci] == r.relative.group[ri]] = PARENT_SURNAME
    level[names_near(c.relative, ci, r.relative, ri, fuzzy)] = PARENT_NEAR
    level[members.contains(ri, c.relative, ci)] = PARENT_MEMBER
    level[names_agree(c.relative, ci, r.relative, ri) | reordered(c.relative, ci, r.relative, ri)] = (
        PARENT_HEAD
    )
    return _null_if(level, (c.relative.given[ci] < 0) | (r.relative.given[ri] < 0))


def compare(c: Side, r: Side, p: Pairs, fuzzy: FuzzyWords, members: MemberIndex) -> dict[str, np.ndarray]:
    """Agreement level of every field for every pair (NULL where a side lacks the value)."""
    ci, ri = p.case, p.resident
    given = _given_levels(c.name, r.name, ci, ri, fuzzy)
    surname = _surname_levels(c.name, r.name, ci, ri, fuzzy)
    # The same words in another order ("Páo Giàng A" or "Páo Giàng" for "Giàng A Páo", typed
    # given name first): surname and given name count as variants, never as exact (the surname's term
    # frequency is unknown when it is not clear which word it is).
    moved = np.flatnonzero(
        reordered(c.name, ci, r.name, ri) & ((given < NAME_VARIANT) | (surname < NAME_VARIANT))
    )
    given[moved] = np.maximum(given[moved], NAME_VARIANT)
    surname[moved] = np.maximum(surname[moved], NAME_VARIANT)
    return {
        "personal_id": _id_levels(c, r, p),
        "surname": surname,
        "given_name": given,
        "middle_name": _middle_levels(c.name, r.name, ci, ri, given),
        "birth_date": _birth_levels(c, r, p),
        "sex": _same(c.sex[ci], r.sex[ri]),
        "commune": _same(c.commune[ci], r.commune[ri]),
        "village": _same(c.village[ci], r.village[ri]),
        "parent": _parent_levels(c, r, p, members, fuzzy),
    }


# -- term frequencies -------------------------------------------------------------------------


def _frequency(groups: list[np.ndarray], value: np.ndarray) -> np.ndarray:
    """Per row: share of rows of its group (e.g. commune) that carry the row's value."""
    width = np.int64(max(int(value.max(initial=0)) + 2, 2))
    group_key = np.zeros(len(value), dtype=np.int64)
    for g in groups:
        group_key = group_key * np.int64(int(g.max(initial=0)) + 2) + (g.astype(np.int64) + 1)
    _, g_inv, g_count = np.unique(group_key, return_inverse=True, return_counts=True)
    _, v_inv, v_count = np.unique(group_key * width + value + 1, return_inverse=True, return_counts=True)
    return v_count[v_inv] / g_count[g_inv]


@dataclass
class TermFrequencies:
    """For each resident: how common its value is among residents of its commune."""

    values: dict[str, np.ndarray]
    middles: _KeyCounts  # (commune, sex, middle name) -> how many residents carry it
    people: _KeyCounts  # (commune, sex) -> how many residents

    @classmethod
    def of(cls, r: Side) -> TermFrequencies:
        head_key = (
            r.relative.group.astype(np.int64) * (int(r.relative.given.max(initial=0)) + 2) + r.relative.given
        )
        _, commune_inv, commune_count = np.unique(r.commune, return_inverse=True, return_counts=True)
        return cls(
            {
                "surname": _frequency([r.commune], r.name.surname),
                "given_name": _frequency([r.commune, r.sex], r.name.given),
                "village": _frequency([r.commune], r.village),
                "parent": _frequency([r.commune], head_key),
                "commune": commune_count[commune_inv] / max(r.n, 1),
            },
            _KeyCounts(_mix(r.commune, r.sex, r.name.middle)),
            _KeyCounts(_mix(r.commune, r.sex)),
        )

    def middle_share(self, commune: np.ndarray, sex: np.ndarray, middle: np.ndarray) -> np.ndarray:
        """Share of the commune's residents of that sex whose middle name is `middle` (which
        may be the case's, when the record's words are swapped)."""
        return self.middles.count(_mix(commune, sex, middle)) / np.maximum(
            self.people.count(_mix(commune, sex)), 1
        )


# -- m and u ----------------------------------------------------------------------------------


@dataclass
class Model:
    m: dict[str, np.ndarray]
    u: dict[str, np.ndarray]
    anchors: int  # pairs m was estimated from
    anchored_by: str  # "personal_id" or "first_pass"

    def weight_table(self, name: str) -> np.ndarray:
        return np.log2(self.m[name] / self.u[name])


def level_counts(levels: np.ndarray, n_levels: int) -> np.ndarray:
    ok = levels >= 0
    return np.bincount(levels[ok], minlength=n_levels)[:n_levels].astype(np.float64)


def estimate_u(levels: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """u per level from random same-commune pairs (virtually all of them non-matches)."""
    u = {}
    for name in FIELDS:
        counts = level_counts(levels[name], N_LEVELS[name]) + 0.5
        u[name] = np.maximum(counts / counts.sum(), U_FLOOR)
    u["personal_id"][ID_EXACT] = U_ID_EXACT
    # The sample is drawn inside the case's commune; the commune's own share of residents is
    # its u (term frequency), so disagreement is what almost every random record shows.
    u["commune"] = np.array([1.0 - U_FLOOR, U_FLOOR])
    return u


def estimate_m(levels: dict[str, np.ndarray], chosen: np.ndarray) -> dict[str, np.ndarray]:
    """m per level from pairs taken as true matches, shrunk towards PRIOR_M."""
    # The ID's own m stays the prior: the chosen pairs were mostly chosen by their IDs.
    m = {"personal_id": np.array(PRIOR_M["personal_id"])}
    for name in FIELDS[1:]:
        prior = np.array(PRIOR_M[name])
        counts = level_counts(levels[name][chosen], N_LEVELS[name])
        m[name] = (counts + PRIOR_STRENGTH * prior) / (counts.sum() + PRIOR_STRENGTH)
    return m


def field_weights(
    model: Model, levels: dict[str, np.ndarray], tf: TermFrequencies, *, c: Side, r: Side, p: Pairs
) -> dict[str, np.ndarray]:
    """Weight in bits of every field of every pair (0 where NULL)."""
    out = {}
    for name in FIELDS:
        lv = levels[name]
        table = model.weight_table(name).astype(np.float64)
        w = np.where(lv >= 0, table[np.maximum(lv, 0)], 0.0)
        if name in TF_FIELDS:
            top = N_LEVELS[name] - 1
            at_top = np.flatnonzero(lv == top)
            rows = p.resident[at_top]
            if name == "middle_name":
                share = tf.middle_share(r.commune[rows], r.sex[rows], c.name.middle[p.case[at_top]])
            else:
                share = tf.values[name][rows]
            w[at_top] = np.log2(model.m[name][top] / np.maximum(share, TF_FLOOR))
        out[name] = w
    return out
