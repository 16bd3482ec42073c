"""From the matcher's answers and the reviewers' decisions to one verdict per open case.

| verdict | when |
| --- | --- |
| `left_locality` | a confident match (or a reviewer's confirmation) whose record says tạm vắng or đã chuyển đi; destination and workplace kept |
| `in_locality` | the same, record says thường trú or tạm trú: the student is there, visit them |
| `deceased` | the same, record says đã chết |
| `ambiguous` | several plausible records: a district officer decides (review list) |
| `not_found` | no plausible record in the commune's extract (or every candidate rejected by a reviewer) |
| `no_police_data` | the student's home commune has sent no extract (or it was deleted after retention) |

Only a record the matcher was confident about, or one a reviewer confirmed, may say that a
child left, is present or died: a child marked "left" stops being visited at home.

A reviewer's decision is keyed by the student and the police record's stable keys (personal ID,
else name + birth year + sex + household head), so it holds across reruns and newer extracts:
a confirmed record is looked up in the commune's extract in effect, whatever its row number;
rejected records are removed from the candidates.

Every case compared with a police extract gets an audit row (`restricted.match_audit`) when its
result is new; a rerun that reaches the same result adds nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import Connection, Engine, func, or_, select

from chuyencan.core import warehouse as wh
from chuyencan.core.schema import (
    VERDICTS,
    case_match,
    case_verdict,
    match_audit,
    police_extract,
    police_extract_current,
    police_resident,
    review_decision,
)
from chuyencan.core.sql import as_utc
from chuyencan.police.cases import fetch_residents
from chuyencan.police.extract_contract import LEFT_STATUSES, PRESENT_STATUSES

log = logging.getLogger(__name__)

_CHUNK = 900  # stays under SQLite's bound-parameter limit


@dataclass(frozen=True)
class Resident:
    resident_id: str
    extract_id: int
    resident_key: str
    name_key: str
    commune: str
    residence_status: str
    destination: str | None
    workplace: str | None


@dataclass(frozen=True)
class ReviewDecision:
    student_key: str
    resident_key: str
    name_key: str | None
    decision: str  # confirm / reject
    reviewer: str
    decided_at: datetime

    def about(self, resident: Resident) -> bool:
        keys = {resident.resident_key, resident.name_key}
        return self.resident_key in keys or (self.name_key is not None and self.name_key in keys)


@dataclass(frozen=True)
class MatchRow:
    student_key: str
    school_code: str
    commune: str | None
    extract_id: int | None
    decision: str  # match / ambiguous / no_match / no_police_data
    resident_id: str | None
    score: float | None
    candidates: tuple[str, ...]
    agreed: str | None
    disagreed: str | None


@dataclass(frozen=True)
class Verdict:
    student_key: str
    school_code: str
    verdict: str
    score: float | None = None
    agreed: str | None = None
    disagreed: str | None = None
    destination: str | None = None
    workplace: str | None = None
    extract_commune: str | None = None
    extract_round: date | None = None
    decided_by: str = "auto"
    decided_at: datetime | None = None  # the reviewer's time; else set when recorded
    # For the audit trail, not stored in case_verdict:
    extract_id: int | None = None
    resident_key: str | None = None
    matcher_decision: str | None = None
    reviewer: str | None = None

    def row(self) -> dict[str, object]:
        return {c.name: getattr(self, c.name) for c in case_verdict.columns}

    def same_as(self, previous: dict[str, object]) -> bool:
        """Same facts as the stored verdict (the time it was decided aside)."""
        mine = self.row()
        return all(_same(mine[k], previous.get(k)) for k in mine if k != "decided_at")


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) < 1e-9
    return a == b


def verdict_of_status(residence_status: str) -> str:
    if residence_status in LEFT_STATUSES:
        return "left_locality"
    if residence_status in PRESENT_STATUSES:
        return "in_locality"
    if residence_status == "da_chet":
        return "deceased"
    raise ValueError(f"unknown residence status {residence_status!r}")


def _from_record(base: Verdict, resident: Resident, rounds: dict[int, date]) -> Verdict:
    verdict = verdict_of_status(resident.residence_status)
    left = verdict == "left_locality"
    return replace(
        base,
        verdict=verdict,
        destination=resident.destination if left else None,
        workplace=resident.workplace if left else None,
        extract_commune=resident.commune,
        extract_round=rounds.get(resident.extract_id, base.extract_round),
        resident_key=resident.resident_key,
        extract_id=resident.extract_id,
    )


def decide(
    m: MatchRow,
    residents: dict[str, Resident],
    decisions: Iterable[ReviewDecision],
    confirmable: Iterable[Resident],
    rounds: dict[int, date],
) -> Verdict:
    """The verdict about one case. `residents` holds at least the records `m` names;
    `confirmable` the records of the case's commune extract in effect that a reviewer confirmed
    (found by their stable keys); `rounds` the round of each extract."""
    base = Verdict(
        student_key=m.student_key,
        school_code=m.school_code,
        verdict="no_police_data",
        extract_commune=m.commune,
        extract_round=rounds.get(m.extract_id) if m.extract_id is not None else None,
        extract_id=m.extract_id,
        matcher_decision=m.decision,
    )
    if m.decision == "no_police_data" or m.extract_id is None:
        return replace(base, extract_round=None, extract_id=None)
    decisions = sorted(decisions, key=lambda d: d.decided_at)
    confirms = [(d, r) for d in decisions if d.decision == "confirm" for r in confirmable if d.about(r)]
    if confirms:
        decision, record = confirms[-1]
        matched = m.resident_id is not None and residents.get(m.resident_id) == record
        reviewed = replace(
            base,
            score=m.score if matched else None,
            agreed=m.agreed if matched else None,
            disagreed=m.disagreed if matched else None,
            decided_by="reviewer",
            decided_at=decision.decided_at,
            reviewer=decision.reviewer,
        )
        return _from_record(reviewed, record, rounds)

    rejects = [d for d in decisions if d.decision == "reject"]

    def rejected(resident_id: str) -> ReviewDecision | None:
        record = residents.get(resident_id)
        return next((d for d in reversed(rejects) if record is not None and d.about(record)), None)

    if m.decision == "match":
        if m.resident_id is None or m.resident_id not in residents:
            raise ValueError(f"the matcher matched a record it was not given: {m.resident_id!r}")
        if rejected(m.resident_id) is None:
            auto = replace(base, score=m.score, agreed=m.agreed, disagreed=m.disagreed)
            return _from_record(auto, residents[m.resident_id], rounds)
    if m.decision == "no_match":
        return replace(base, verdict="not_found", score=m.score, agreed=m.agreed, disagreed=m.disagreed)
    candidates = [c for c in (m.candidates or ((m.resident_id,) if m.resident_id else ())) if c]
    remaining = [c for c in candidates if rejected(c) is None]
    if candidates and not remaining:
        last = max((rejected(c) for c in candidates), key=lambda d: d.decided_at if d else datetime.min)
        return replace(
            base,
            verdict="not_found",
            decided_by="reviewer",
            decided_at=last.decided_at if last else None,
            reviewer=last.reviewer if last else None,
        )
    # Several plausible records, or a trusted match a reviewer took away while others remain.
    return replace(base, verdict="ambiguous", score=m.score, agreed=m.agreed, disagreed=m.disagreed)


# --- reading and writing the warehouse ----------------------------------------------------------


def load_matches(conn: Connection) -> list[MatchRow]:
    return [
        MatchRow(
            student_key=r.student_key,
            school_code=r.school_code,
            commune=r.commune,
            extract_id=r.extract_id,
            decision=r.decision,
            resident_id=r.resident_id,
            score=r.score,
            candidates=tuple(json.loads(r.candidates or "[]")),
            agreed=r.agreed,
            disagreed=r.disagreed,
        )
        for r in conn.execute(select(case_match).order_by(case_match.c.student_key))
    ]


def _resident(r: object) -> Resident:
    return Resident(
        resident_id=f"{r.extract_id}:{r.source_row}",  # type: ignore[attr-defined]
        extract_id=r.extract_id,  # type: ignore[attr-defined]
        resident_key=r.resident_key,  # type: ignore[attr-defined]
        name_key=r.name_key,  # type: ignore[attr-defined]
        commune=r.commune,  # type: ignore[attr-defined]
        residence_status=r.residence_status,  # type: ignore[attr-defined]
        destination=r.destination,  # type: ignore[attr-defined]
        workplace=r.workplace,  # type: ignore[attr-defined]
    )


_RESIDENT_COLS = (
    police_resident.c.extract_id,
    police_resident.c.source_row,
    police_resident.c.resident_key,
    police_resident.c.name_key,
    police_resident.c.commune,
    police_resident.c.residence_status,
    police_resident.c.destination,
    police_resident.c.workplace,
)


def residents_by_id(conn: Connection, ids: Iterable[str]) -> dict[str, Resident]:
    return {
        res.resident_id: res
        for res in map(_resident, fetch_residents(conn, ids, [c.name for c in _RESIDENT_COLS]))
    }


def load_decisions(conn: Connection) -> dict[str, list[ReviewDecision]]:
    out: dict[str, list[ReviewDecision]] = {}
    for r in conn.execute(select(review_decision)):
        out.setdefault(r.student_key, []).append(
            ReviewDecision(
                student_key=r.student_key,
                resident_key=r.resident_key,
                name_key=r.name_key,
                decision=r.decision,
                reviewer=r.reviewer,
                decided_at=as_utc(r.decided_at),
            )
        )
    return out


def confirmed_records(
    conn: Connection, decisions: dict[str, list[ReviewDecision]]
) -> dict[str, list[Resident]]:
    """Per student, the records in its commune's extract in effect that a reviewer confirmed."""
    keys = sorted(
        {
            k
            for ds in decisions.values()
            for d in ds
            if d.decision == "confirm"
            for k in (d.resident_key, d.name_key)
            if k
        }
    )
    found: list[Resident] = []
    pr, cur = police_resident, police_extract_current
    for start in range(0, len(keys), _CHUNK // 2):
        chunk = keys[start : start + _CHUNK // 2]
        query = (
            select(*_RESIDENT_COLS)
            .join(cur, cur.c.extract_id == pr.c.extract_id)
            .where(or_(pr.c.resident_key.in_(chunk), pr.c.name_key.in_(chunk)))
        )
        found.extend(map(_resident, conn.execute(query)))
    out: dict[str, list[Resident]] = {}
    for student, ds in decisions.items():
        hits = {r.resident_id: r for d in ds if d.decision == "confirm" for r in found if d.about(r)}
        if hits:
            out[student] = list(hits.values())
    return out


def record_verdicts(engine: Engine, now: datetime) -> dict[str, int]:
    """Replace restricted.case_verdict from restricted.case_match and the reviewers' decisions;
    add an audit row for every new cross-agency match result. One transaction."""
    with engine.begin() as conn:
        # Before reading: an overlapping run must see the verdicts and audit rows this one
        # writes, or both would audit the same match and insert the same verdicts.
        wh.serialise(conn, "restricted.case_verdict")
        matches = load_matches(conn)
        rounds = dict(conn.execute(select(police_extract.c.extract_id, police_extract.c.extract_round)).all())
        wanted = [rid for m in matches for rid in (m.resident_id, *m.candidates) if rid]
        residents = residents_by_id(conn, wanted)
        decisions = load_decisions(conn)
        confirmable = confirmed_records(conn, decisions)
        previous = {r.student_key: dict(r._mapping) for r in conn.execute(select(case_verdict))}
        verdicts = []
        for m in matches:
            v = decide(
                m,
                residents,
                decisions.get(m.student_key, ()),
                [r for r in confirmable.get(m.student_key, ()) if r.commune == m.commune],
                rounds,
            )
            old = previous.get(m.student_key)
            if (
                v.verdict == "no_police_data"
                and old is not None
                and old["verdict"] != "no_police_data"
                and old["extract_commune"] == m.commune
            ):
                # The commune's extract was deleted after retention: the verdict is what stays.
                verdicts.append(_kept(old))
                continue
            if v.decided_at is None:
                kept = old is not None and v.same_as(old)
                v = replace(v, decided_at=as_utc(old["decided_at"]) if kept and old else now)
            verdicts.append(v)
        conn.execute(case_verdict.delete())
        if verdicts:
            conn.execute(case_verdict.insert(), [v.row() for v in verdicts])
        audited = _audit(conn, verdicts, now)
    counts = Counter(v.verdict for v in verdicts)
    summary = {verdict: counts.get(verdict, 0) for verdict in VERDICTS}
    summary["reviewer_decided"] = sum(v.decided_by == "reviewer" for v in verdicts)
    summary["audit_rows_added"] = audited
    log.info("verdicts recorded: %s", summary)
    return summary


def _kept(old: dict[str, object]) -> Verdict:
    fields = {k: old[k] for k in (c.name for c in case_verdict.columns)}
    fields["decided_at"] = as_utc(fields["decided_at"])  # type: ignore[arg-type]
    return Verdict(**fields, matcher_decision=None)  # type: ignore[arg-type]


def _audit(conn: Connection, verdicts: list[Verdict], now: datetime) -> int:
    a = match_audit
    latest_ids = (
        select(a.c.student_key, func.max(a.c.audit_id).label("audit_id")).group_by(a.c.student_key).subquery()
    )
    latest = {
        r.student_key: r
        for r in conn.execute(select(a).join(latest_ids, latest_ids.c.audit_id == a.c.audit_id))
    }
    rows = []
    for v in verdicts:
        if v.extract_id is None or v.matcher_decision is None or v.extract_commune is None:
            continue  # no police data compared: nothing crossed agencies
        facts = (v.extract_id, v.matcher_decision, v.verdict, v.resident_key, v.decided_by, v.reviewer)
        last = latest.get(v.student_key)
        if last is not None and facts == (
            last.extract_id,
            last.matcher_decision,
            last.verdict,
            last.resident_key,
            last.decided_by,
            last.reviewer,
        ):
            continue
        basis = "|".join(map(str, (v.student_key, last.audit_id if last else 0, *facts)))
        rows.append(
            {
                "audit_key": hashlib.sha256(basis.encode()).hexdigest(),
                "recorded_at": now,
                "student_key": v.student_key,
                "school_code": v.school_code,
                "extract_id": v.extract_id,
                "commune": v.extract_commune,
                "extract_round": v.extract_round,
                "matcher_decision": v.matcher_decision,
                "verdict": v.verdict,
                "score": v.score,
                "resident_key": v.resident_key,
                "decided_by": v.decided_by,
                "reviewer": v.reviewer,
            }
        )
    if rows:
        conn.execute(a.insert(), rows)
    return len(rows)
