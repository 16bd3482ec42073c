"""What the district is told about police reconciliation: counts and reasons, never a name.

- A rejected extract: which file, which commune (if it could be read), how many problems of each
  kind, in which rows, and how to fix them: the message catalogue's words with values of
  personal columns masked. Queued in the transaction that records the rejection.
- The weekly counts: per verdict, for the district and each commune, which communes' extracts
  are in effect (and of which round), and how many cases wait in the review list. Queued once
  per set of facts (a rerun with the same counts queues nothing).
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select

from chuyencan.core.mail.outbox import queue_email
from chuyencan.core.mail.render import render_email
from chuyencan.core.schema import VERDICTS, case_verdict, police_extract, police_extract_current
from chuyencan.core.settings import Settings
from chuyencan.police.intake import ExtractRejectedHook
from chuyencan.police.issues import ExtractIssue
from chuyencan.police.validate import CheckedExtract

MAX_REASONS = 20
MAX_ROWS_SHOWN = 10


@dataclass(frozen=True)
class ReasonLine:
    severity: str
    column: str | None  # Vietnamese header
    message: str  # the first occurrence's sentence
    fix: str
    count: int
    rows: str  # "5, 8, 13 …"


def reason_lines(issues: list[ExtractIssue]) -> list[ReasonLine]:
    """Issues grouped by rule and column, errors first, in the order first met."""
    groups: dict[tuple[str, str, str | None], list[ExtractIssue]] = defaultdict(list)
    for i in issues:
        groups[(i.severity, i.rule, i.column)].append(i)
    lines = []
    for (severity, _rule, _column), group in sorted(groups.items(), key=lambda kv: kv[0][0] != "error"):
        rows = [i.row for i in group if i.row is not None]
        shown = ", ".join(str(r) for r in rows[:MAX_ROWS_SHOWN]) + (
            " …" if len(rows) > MAX_ROWS_SHOWN else ""
        )
        first = group[0]
        lines.append(
            ReasonLine(
                severity,
                first.header if first.column else None,
                first.message(),
                first.fix(),
                len(group),
                shown,
            )
        )
    return lines


def rejection_hook(settings: Settings) -> ExtractRejectedHook:
    def on_rejected(conn: Connection, c: CheckedExtract, _extract_id: int) -> None:
        if not settings.district_emails:
            return
        reasons = reason_lines(c.issues)
        email = render_email(
            "police_rejected",
            file_name=c.file.name,
            inbox_path=c.file.relative_path,
            received_at=c.file.received_at,
            commune=c.commune,
            error_count=len(c.errors),
            warning_count=len(c.warnings),
            reasons=reasons[:MAX_REASONS],
            more_reasons=max(0, len(reasons) - MAX_REASONS),
        )
        queue_email(
            conn,
            dedup_key=f"police_rejected:{c.file.sha256}",
            kind="police_rejected",
            recipients=list(settings.district_emails),
            email=email,
            now=datetime.now(UTC),
        )

    return on_rejected


@dataclass(frozen=True)
class CommuneCounts:
    commune: str
    extract_round: date | None
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def verdict_counts(conn: Connection) -> tuple[dict[str, int], list[CommuneCounts]]:
    """Per verdict: the district's counts and each commune's (the student's home commune)."""
    rounds = dict(
        conn.execute(select(police_extract_current.c.commune, police_extract_current.c.extract_round)).all()
    )
    by_commune: dict[str, Counter[str]] = defaultdict(Counter)
    total: Counter[str] = Counter()
    for r in conn.execute(select(case_verdict.c.verdict, case_verdict.c.extract_commune)):
        total[r.verdict] += 1
        by_commune[r.extract_commune or "(không rõ xã)"][r.verdict] += 1
    communes = [
        CommuneCounts(name, rounds.get(name), {v: counts.get(v, 0) for v in VERDICTS})
        for name, counts in sorted(by_commune.items())
    ]
    return {v: total.get(v, 0) for v in VERDICTS}, communes


def queue_district_counts(
    engine: Engine, settings: Settings, week: date, review: dict[str, Any] | None = None
) -> bool:
    """Queue the district's weekly reconciliation counts; a rerun with the same facts queues nothing."""
    if not settings.district_emails:
        return False
    # Extracts dropped from the Saturday before the week's Friday to that Friday, by file time.
    since = datetime.combine(week - timedelta(days=6), datetime.min.time(), tzinfo=settings.timezone)
    with engine.begin() as conn:
        totals, communes = verdict_counts(conn)
        pe = police_extract
        received = conn.execute(
            select(pe.c.outcome).where(
                pe.c.received_at >= since.astimezone(UTC),
                pe.c.received_at < (since + timedelta(days=7)).astimezone(UTC),
            )
        ).all()
        facts: dict[str, Any] = {
            "week_ending": week,
            "totals": totals,
            "total": sum(totals.values()),
            "communes": communes,
            "extracts_accepted": sum(r.outcome == "accepted" for r in received),
            "extracts_rejected": sum(r.outcome == "rejected" for r in received),
            "extract_communes": len({c.commune for c in communes if c.extract_round is not None}),
            "review_cases": (review or {}).get("ambiguous_cases", totals["ambiguous"]),
            "left_to_check": (review or {}).get("left_locality_cases", totals["left_locality"]),
            "review_file": (review or {}).get("file_name"),
        }
        # No clock time in the body: the same facts give the same email, whenever it is computed.
        email = render_email("police_counts", **facts)
        digest = hashlib.sha256(repr(facts).encode()).hexdigest()[:16]
        return queue_email(
            conn,
            dedup_key=f"police_counts:{week.isoformat()}:{digest}",
            kind="police_counts",
            recipients=list(settings.district_emails),
            email=email,
            now=datetime.now(UTC),
        )
