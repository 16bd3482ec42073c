"""Match open cases (students out of school) to commune police household records.

    match_cases(cases, residents) -> one row per case: decision, resident_id, score, ...

The personal ID decides when it points to a record with the student's name, birth year and sex;
otherwise (and when it is missing or mistyped) a Fellegi–Sunter model weighs the other fields.
`score` is the probability that the chosen record is the student, given all candidate records of
the case and the chance that the student is not in the household books at all; so two namesakes
born the same year in one village share the probability and neither is a confident match.
See docs/matching.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from chuyencan.police import id_check
from chuyencan.police import scoring as sc
from chuyencan.police.blocking import Blocks
from chuyencan.police.records import Side, Vocabularies, prepare_cases, prepare_residents, take

MATCH_THRESHOLD = 0.99  # score at or above which a match is decided without a person
REVIEW_THRESHOLD = 0.10  # below this the best record is not worth a reviewer's time
CANDIDATE_FLOOR = 0.02  # records at or above this are listed for the reviewer
MAX_CANDIDATES = 5
ABSENT_SHARE = 0.05  # prior share of cases whose student is not in the household books
MIN_ANCHORS = 200  # ID-confirmed pairs needed to estimate m from them
U_SAMPLE_PAIRS = 1_000_000  # random same-commune pairs for u (at least 5 per case)
SEED = 20250326
TOP_K = 32  # records per case kept after a rough first ranking (see docs/matching.md)

OUTPUT_COLUMNS = ("case_id", "decision", "resident_id", "score", "candidates", "agreed", "disagreed")


@dataclass
class Scored:
    pairs: sc.Pairs
    levels: dict[str, np.ndarray]
    weights: dict[str, np.ndarray]
    posterior: np.ndarray
    model: sc.Model


def _random_commune_pairs(c: Side, r: Side, per_case: int, seed: int) -> sc.Pairs:
    """Each case against `per_case` random records of its commune (for u)."""
    order = np.argsort(r.commune, kind="stable")
    communes, starts, counts = np.unique(r.commune[order], return_index=True, return_counts=True)
    pos = np.searchsorted(communes, c.commune)
    pos = np.minimum(pos, max(len(communes) - 1, 0))
    usable = np.flatnonzero((len(communes) > 0) & (communes[pos] == c.commune) & (c.commune >= 0))
    if len(usable) == 0:
        return sc.Pairs(np.empty(0, np.int64), np.empty(0, np.int64))
    case = np.repeat(usable, per_case)
    rng = np.random.default_rng(seed)
    offset = (rng.random(len(case)) * counts[pos[case]]).astype(np.int64)
    return sc.Pairs(case.astype(np.int64), order[starts[pos[case]] + offset].astype(np.int64))


def auto_acceptable(levels: dict[str, np.ndarray]) -> np.ndarray:
    """Pairs that may be matched without a person: the given name and the birth date agree (a
    one-letter slip, swapped day and month, a few days or one year off, or a year-only record
    within a year all count) and the sex does not disagree. Twins, siblings and cousins share
    everything else, so the model alone can be fooled by them."""
    given_ok = levels["given_name"] >= sc.AGREE_FROM["given_name"]
    birth = levels["birth_date"]
    birth_ok = (birth >= sc.AGREE_FROM["birth_date"]) | (birth == sc.NULL)
    return given_ok & birth_ok & (levels["sex"] != 0)


def _posterior(total_bits: np.ndarray, case: np.ndarray, n_residents: int, absent: float) -> np.ndarray:
    """P(record is the student | all the case's candidates), pairs sorted by case.

    Prior: the student is absent from the books with probability `absent`, else equally likely
    any resident; each candidate's likelihood ratio is 2**bits.
    """
    if len(case) == 0:
        return np.empty(0)
    log_prior = np.log2((1 - absent) / max(n_residents, 1))
    a = total_bits + log_prior
    starts = np.flatnonzero(np.r_[True, case[1:] != case[:-1]])
    top = np.maximum(np.maximum.reduceat(a, starts), np.log2(absent))
    top_per_pair = np.repeat(top, np.diff(np.r_[starts, len(case)]))
    e = np.exp2(a - top_per_pair)
    denom = np.add.reduceat(e, starts) + np.exp2(np.log2(absent) - top)
    return e / np.repeat(denom, np.diff(np.r_[starts, len(case)]))


def _total_bits(weights: dict[str, np.ndarray]) -> np.ndarray:
    return np.sum([weights[name] for name in sc.FIELDS], axis=0)


def _rough_bits(levels: dict[str, np.ndarray], u: dict[str, np.ndarray]) -> np.ndarray:
    """Total weight with the prior m and no term frequencies: enough to rank a case's records."""
    total = np.zeros(len(levels["personal_id"]))
    for name in sc.FIELDS:
        table = np.log2(np.array(sc.PRIOR_M[name]) / u[name])
        lv = levels[name]
        total += np.where(lv >= 0, table[np.maximum(lv, 0)], 0.0)
    return total


def _best_per_case(case: np.ndarray, resident: np.ndarray, bits: np.ndarray, k: int) -> np.ndarray:
    """Positions of each case's k best pairs (ties to the lower resident row), in the input's
    (case, resident) order."""
    # Pairs come sorted by (case, resident): one stable sort on (case, -bits) keeps ties in
    # resident order. Bits are rounded to 1e-6 (finite: every level's weight is).
    rank = np.round(np.clip(-bits, -2000, 2000) * 1e6).astype(np.int64) + 2_000_000_000
    order = np.argsort(case.astype(np.int64) * np.int64(4_000_000_001) + rank, kind="stable")
    del rank
    starts = np.flatnonzero(np.r_[True, case[order][1:] != case[order][:-1]])
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    return np.sort(order[rank < k])


def best_candidates(
    c: Side,
    r: Side,
    fuzzy: sc.FuzzyWords,
    members: sc.MemberIndex,
    u: dict[str, np.ndarray],
    *,
    prune: bool = False,
) -> tuple[sc.Pairs, dict[str, np.ndarray]]:
    """Each case's TOP_K most likely records and their levels, compared block chunk by block
    chunk (blocking.Blocks), so that memory stays bounded by the chunk budget and TOP_K."""
    cases: list[np.ndarray] = []
    residents: list[np.ndarray] = []
    kept: dict[str, list[np.ndarray]] = {name: [] for name in sc.FIELDS}
    for ci, ri in Blocks(c, r, prune=prune).chunks():
        levels = sc.compare(c, r, sc.Pairs(ci, ri), fuzzy, members)
        keep = _best_per_case(ci, ri, _rough_bits(levels, u), TOP_K)
        cases.append(ci[keep])
        residents.append(ri[keep])
        for name in sc.FIELDS:
            kept[name].append(levels[name][keep])
    if not cases:
        empty = np.empty(0, np.int64)
        return sc.Pairs(empty, empty), {name: np.empty(0, np.int8) for name in sc.FIELDS}
    return sc.Pairs(np.concatenate(cases), np.concatenate(residents)), {
        name: np.concatenate(parts) for name, parts in kept.items()
    }


def score_pairs(
    c: Side, r: Side, vocab: Vocabularies, *, absent: float = ABSENT_SHARE, seed: int = SEED
) -> Scored:
    """Candidate pairs with levels, weights and posteriors, and the model estimated on the way."""
    fuzzy = sc.FuzzyWords(vocab.words.words)
    members = sc.MemberIndex(r)
    u = sample_u(c, r, fuzzy, members, seed=seed)
    pairs, levels = best_candidates(c, r, fuzzy, members, u)
    return score_candidates(c, r, u, pairs, levels, absent=absent)


def sample_u(
    c: Side, r: Side, fuzzy: sc.FuzzyWords, members: sc.MemberIndex, *, seed: int = SEED
) -> dict[str, np.ndarray]:
    """u per level from random same-commune pairs of every case (one draw for all communes)."""
    per_case = int(np.clip(U_SAMPLE_PAIRS // max(c.n, 1), 5, 2000))
    sample = _random_commune_pairs(c, r, per_case, seed)
    return sc.estimate_u(sc.compare(c, r, sample, fuzzy, members))


def candidates_of(enc: Encoded, case_rows: np.ndarray) -> tuple[sc.Pairs, dict[str, np.ndarray]]:
    """best_candidates of the cases at `case_rows` (ascending) only, with case rows of the whole
    side. A case's candidates depend on the case and the residents alone (blocking, the rough
    ranking and TOP_K are per case), so the union over any split of the rows is exactly what
    best_candidates gives for all of them: the per-commune fan-out relies on this."""
    c, fuzzy = enc.c, sc.FuzzyWords(enc.vocab.words.words)
    # A share of the cases (one commune's) indexes only the records its keys look up.
    prune = len(case_rows) < c.n
    pairs, levels = best_candidates(take(c, case_rows), enc.r, fuzzy, enc.members, enc.u, prune=prune)
    return sc.Pairs(case_rows[pairs.case].astype(np.int64), pairs.resident), levels


def merge_candidates(
    parts: list[tuple[sc.Pairs, dict[str, np.ndarray]]],
) -> tuple[sc.Pairs, dict[str, np.ndarray]]:
    """Candidates of disjoint case sets as one, in the (case, resident) order best_candidates gives."""
    if not parts:
        empty = np.empty(0, np.int64)
        return sc.Pairs(empty, empty), {name: np.empty(0, np.int8) for name in sc.FIELDS}
    case = np.concatenate([p.case for p, _ in parts])
    resident = np.concatenate([p.resident for p, _ in parts])
    order = np.lexsort((resident, case))
    return sc.Pairs(case[order], resident[order]), {
        name: np.concatenate([lv[name] for _, lv in parts])[order] for name in sc.FIELDS
    }


def score_candidates(
    c: Side,
    r: Side,
    u: dict[str, np.ndarray],
    pairs: sc.Pairs,
    levels: dict[str, np.ndarray],
    *,
    absent: float = ABSENT_SHARE,
) -> Scored:
    """The model (m from ID-confirmed pairs, else from confident matches), weights and
    posteriors over every case's candidates: the step that needs all communes at once."""
    ci = pairs.case
    id_check.drop_wrong_ids(levels, ci, c.n)
    tf = sc.TermFrequencies.of(r)

    # m from pairs whose ID agrees and was not found wrong.
    # (Not conditioned on the name beyond drop_wrong_ids: m of a one-letter slip must be seen.)
    anchors = levels["personal_id"] == sc.ID_EXACT
    if anchors.sum() >= MIN_ANCHORS:
        model = sc.Model(sc.estimate_m(levels, anchors), u, int(anchors.sum()), "personal_id")
        rounds = 0
    else:
        prior = {name: np.array(p) for name, p in sc.PRIOR_M.items()}
        model = sc.Model(prior, u, 0, "first_pass")
        rounds = 2
    weights = sc.field_weights(model, levels, tf, c=c, r=r, p=pairs)
    posterior = _posterior(_total_bits(weights), ci, r.n, absent)
    for _ in range(rounds):
        # Without enough IDs: re-estimate m from the confident matches of the previous pass.
        chosen = posterior >= MATCH_THRESHOLD
        model = sc.Model(sc.estimate_m(levels, chosen), u, int(chosen.sum()), "first_pass")
        weights = sc.field_weights(model, levels, tf, c=c, r=r, p=pairs)
        posterior = _posterior(_total_bits(weights), ci, r.n, absent)
    return Scored(pairs, levels, weights, posterior, model)


def _field_lists(levels: dict[str, np.ndarray], rows: np.ndarray) -> tuple[list[list[str]], list[list[str]]]:
    """Names of the fields that agreed / disagreed in each of the given pairs (missing: neither)."""
    agreed: list[list[str]] = [[] for _ in rows]
    disagreed: list[list[str]] = [[] for _ in rows]
    for name in sc.FIELDS:
        lv = levels[name][rows]
        for i in np.flatnonzero(lv >= sc.AGREE_FROM[name]):
            agreed[i].append(name)
        for i in np.flatnonzero((lv >= 0) & (lv < sc.AGREE_FROM[name])):
            disagreed[i].append(name)
    return agreed, disagreed


def decide(
    scored: Scored,
    n_cases: int,
    *,
    match_threshold: float = MATCH_THRESHOLD,
    review_threshold: float = REVIEW_THRESHOLD,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[list[int]]]:
    """Per case: decision code (0 no_match, 1 ambiguous, 2 match), best pair row (-1), score,
    candidate resident rows for ambiguous cases."""
    case, resident, p = scored.pairs.case, scored.pairs.resident, scored.posterior
    decision = np.zeros(n_cases, dtype=np.int8)
    best = np.full(n_cases, -1, dtype=np.int64)
    score = np.full(n_cases, np.nan)
    candidates: list[list[int]] = [[] for _ in range(n_cases)]
    if len(case) == 0:
        return decision, best, score, candidates
    # Best pair per case: sort by case, then posterior descending.
    order = np.lexsort((-p, case))
    first = order[np.r_[True, case[order][1:] != case[order][:-1]]]
    best[case[first]] = first
    score[case[first]] = p[first]
    confident = (p[first] >= match_threshold) & auto_acceptable(
        {k: v[first] for k, v in scored.levels.items()}
    )
    decision[case[first]] = np.where(confident, 2, np.where(p[first] >= review_threshold, 1, 0))
    # One record, one student: two confident cases on one record both go to a person.
    matched = first[confident]
    rec, counts = np.unique(resident[matched], return_counts=True)
    clash = np.isin(resident[matched], rec[counts > 1])
    decision[case[matched[clash]]] = 1
    listed = order[p[order] >= CANDIDATE_FLOOR]
    review = decision[case[listed]] == 1
    for row in listed[review]:
        rows = candidates[case[row]]
        if len(rows) < MAX_CANDIDATES:
            rows.append(int(resident[row]))
    for c_row in np.flatnonzero(decision == 1):
        if not candidates[c_row]:
            candidates[c_row].append(int(resident[best[c_row]]))
    return decision, best, score, candidates


def no_candidates(cases: pd.DataFrame) -> pd.DataFrame:
    n = len(cases)
    return pd.DataFrame(
        {
            "case_id": pd.Series(cases["case_id"].astype(str).to_numpy(dtype=object), dtype=object),
            "decision": pd.Series(["no_match"] * n, dtype=object),
            "resident_id": pd.Series([None] * n, dtype=object),
            "score": pd.Series([None] * n, dtype=object),
            "candidates": pd.Series([[] for _ in range(n)], dtype=object),
            "agreed": pd.Series([[] for _ in range(n)], dtype=object),
            "disagreed": pd.Series([[] for _ in range(n)], dtype=object),
        },
        columns=list(OUTPUT_COLUMNS),
    )


_DECISIONS = np.array(["no_match", "ambiguous", "match"], dtype=object)


def match_cases(
    cases: pd.DataFrame,
    residents: pd.DataFrame,
    *,
    match_threshold: float = MATCH_THRESHOLD,
    review_threshold: float = REVIEW_THRESHOLD,
    absent_share: float = ABSENT_SHARE,
) -> pd.DataFrame:
    """One row per case: case_id, decision (match / ambiguous / no_match), resident_id (match
    only), score (0-1, the best record's probability; None without any candidate), candidates
    (resident_ids for a reviewer, best first; ambiguous only), agreed / disagreed (field names,
    for the best record; empty for no_match)."""
    # The u-sample draws records by position: both sides go in id order so that the answer
    # depends on the rows, not on the order a database happened to return them in.
    result = _match_in_id_order(
        in_id_order(cases, "case_id"),
        in_id_order(residents, "resident_id"),
        match_threshold=match_threshold,
        review_threshold=review_threshold,
        absent_share=absent_share,
    )
    return result.set_index("case_id").loc[cases["case_id"].astype(str)].reset_index()


def in_id_order(frame: pd.DataFrame, id_column: str) -> pd.DataFrame:
    ids = frame[id_column].astype(str).to_numpy(dtype=object)
    return frame.iloc[np.argsort(ids, kind="stable")].reset_index(drop=True)


@dataclass
class Encoded:
    """Both sides in id order, encoded with one vocabulary, and u: everything a share of the
    cases needs to find its candidates (no text but the vocabulary's folded words)."""

    case_ids: np.ndarray
    resident_ids: np.ndarray
    vocab: Vocabularies
    c: Side
    r: Side
    u: dict[str, np.ndarray]
    members: sc.MemberIndex  # the households' names (built once: every share uses it)


def encode(cases: pd.DataFrame, residents: pd.DataFrame, *, seed: int = SEED) -> Encoded:
    """Encode both sides (given in id order, neither empty) and draw u."""
    vocab = Vocabularies()
    c = prepare_cases(cases, vocab)
    r = prepare_residents(residents, vocab)
    members = sc.MemberIndex(r)
    u = sample_u(c, r, sc.FuzzyWords(vocab.words.words), members, seed=seed)
    return Encoded(
        cases["case_id"].astype(str).to_numpy(dtype=object),
        residents["resident_id"].astype(str).to_numpy(dtype=object),
        vocab,
        c,
        r,
        u,
        members,
    )


def answer(
    enc: Encoded,
    pairs: sc.Pairs,
    levels: dict[str, np.ndarray],
    *,
    match_threshold: float = MATCH_THRESHOLD,
    review_threshold: float = REVIEW_THRESHOLD,
    absent_share: float = ABSENT_SHARE,
) -> pd.DataFrame:
    """match_cases' answer (cases in id order) from every case's candidates."""
    n_cases = enc.c.n
    scored = score_candidates(enc.c, enc.r, enc.u, pairs, levels, absent=absent_share)
    decision, best, score, candidates = decide(
        scored, n_cases, match_threshold=match_threshold, review_threshold=review_threshold
    )
    resident_ids = enc.resident_ids
    shown = np.flatnonzero(decision > 0)
    agreed_rows, disagreed_rows = _field_lists(scored.levels, best[shown])
    agreed: list[list[str]] = [[] for _ in range(n_cases)]
    disagreed: list[list[str]] = [[] for _ in range(n_cases)]
    for i, row in enumerate(shown):
        agreed[row], disagreed[row] = agreed_rows[i], disagreed_rows[i]
    matched = decision == 2
    chosen = np.full(n_cases, None, dtype=object)
    chosen[matched] = resident_ids[scored.pairs.resident[best[matched]]]
    return pd.DataFrame(
        {
            "case_id": enc.case_ids,
            "decision": _DECISIONS[decision],
            "resident_id": pd.Series(chosen, dtype=object),
            "score": pd.Series([None if np.isnan(v) else float(v) for v in score], dtype=object),
            "candidates": [[resident_ids[i] for i in rows] for rows in candidates],
            "agreed": agreed,
            "disagreed": disagreed,
        },
        columns=list(OUTPUT_COLUMNS),
    )


def _match_in_id_order(
    cases: pd.DataFrame,
    residents: pd.DataFrame,
    *,
    match_threshold: float,
    review_threshold: float,
    absent_share: float,
) -> pd.DataFrame:
    if len(cases) == 0 or len(residents) == 0:
        return no_candidates(cases)
    enc = encode(cases, residents)
    pairs, levels = candidates_of(enc, np.arange(enc.c.n))
    return answer(
        enc,
        pairs,
        levels,
        match_threshold=match_threshold,
        review_threshold=review_threshold,
        absent_share=absent_share,
    )
