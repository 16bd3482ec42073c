"""Did each commune's police extract arrive by the round's due date? (issue 13, item 5)

The rounds are reference data (`chuyencan.core.police_rounds`, the district notice's one round
due 31/3/2025). For every round that has opened and every commune it asks, the police intake's
records (`ops.police_extract`, accepted extracts of that commune) say when an extract arrived:
its file time, the first one on or after the round's opening day. `report.police_round_arrival`
keeps one row per unit, round and commune:

- `on_time`: arrived on or before the due date (local time);
- `late`: arrived after it;
- `missing`: the due date has passed and nothing came;
- `pending`: not due yet.

After the due date a missing extract is named to the commune police contact once: one email
(no personal data, only the commune, the round and its dates), queued in the transaction that
records `named_at` and keyed `police_round_missing:<unit>:<round>:<commune>`, so a rerun sends
nothing new, and a commune without a police contact is listed for the operators instead of
being skipped silently. A rejected extract is not an arrival (the district is told about it by
the intake). Logs carry commune names and counts only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Engine, select

from chuyencan.core.contacts import Contacts, note_contact_gap
from chuyencan.core.mail.outbox import queue_email
from chuyencan.core.mail.render import RenderedEmail, render_email
from chuyencan.core.organisation import KIND_LABEL
from chuyencan.core.police_rounds import PoliceRound
from chuyencan.core.reference import Reference
from chuyencan.core.schema import police_extract, police_round_arrival
from chuyencan.core.settings import Settings
from chuyencan.core.text import fold

log = logging.getLogger(__name__)

EMAIL_KIND = "police_round_missing"
STATUSES = ("on_time", "late", "missing", "pending")


@dataclass
class RoundCheck:
    """What one check found; commune names and counts only."""

    rounds: int = 0
    by_status: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    named: list[str] = field(default_factory=list)  # "<round> <commune>" emailed this run
    without_contact: list[str] = field(default_factory=list)  # missing, nobody to tell
    missing: list[str] = field(default_factory=list)  # "<round> <commune>", every missing one

    def as_dict(self) -> dict[str, object]:
        return {
            "police_rounds": self.rounds,
            **{f"extracts_{k}": v for k, v in self.by_status.items()},
            "police_named": len(self.named),
            "police_without_contact": list(self.without_contact),
            "police_missing": list(self.missing),
        }


def commune_label(ref: Reference, name: str) -> str:
    """'xã A Lù', 'Thị trấn Bát Xát': how a letter addresses the commune."""
    commune = next((c for c in ref.communes if c.name == name), None)
    kind = KIND_LABEL.get(commune.kind, "") if commune else ""
    if not kind or fold(name).startswith(fold(kind)):
        return name
    return f"{kind} {name}"


def _arrivals(engine: Engine, now: datetime) -> dict[str, list[tuple[datetime, int]]]:
    """Accepted extracts by commune: (file time, extract id), oldest first, none after `now`."""
    pe = police_extract
    query = (
        select(pe.c.commune, pe.c.received_at, pe.c.extract_id)
        .where(pe.c.outcome == "accepted", pe.c.commune.is_not(None))
        .order_by(pe.c.received_at, pe.c.extract_id)
    )
    out: dict[str, list[tuple[datetime, int]]] = {}
    with engine.connect() as conn:
        for commune, received_at, extract_id in conn.execute(query):
            at = received_at if received_at.tzinfo else received_at.replace(tzinfo=UTC)
            if at <= now:
                out.setdefault(commune, []).append((at, extract_id))
    return out


def check_police_rounds(
    engine: Engine,
    settings: Settings,
    ref: Reference,
    rounds: Sequence[PoliceRound],
    *,
    now: datetime,
    contacts: Contacts,
    name_missing: bool = True,
) -> RoundCheck:
    """Record every opened round's arrivals and name each missing extract once (see above);
    `name_missing=False` records without writing to anyone (a backfilled report)."""
    today = now.astimezone(settings.timezone).date()
    arrivals = _arrivals(engine, now)
    result = RoundCheck()
    t = police_round_arrival
    for rnd in rounds:
        if rnd.opens_on > today:
            continue
        result.rounds += 1
        for commune in rnd.communes_due(ref):
            status, arrived_at, extract_id = _status(rnd, arrivals.get(commune, []), today, settings)
            result.by_status[status] += 1
            key = {"reporting_unit": rnd.unit, "round": rnd.round, "commune": commune}
            with engine.begin() as conn:
                row = conn.execute(
                    select(t.c.named_at).where(*(t.c[k] == v for k, v in key.items())).with_for_update()
                ).first()
                named_at = row.named_at if row else None
                if status == "missing":
                    result.missing.append(f"{rnd.round} {commune}")
                    if named_at is None and name_missing:
                        recipients = contacts.emails_for("police", commune, today)
                        if recipients:
                            queue_email(
                                conn,
                                dedup_key=f"{EMAIL_KIND}:{rnd.unit}:{rnd.round}:{commune}",
                                kind=EMAIL_KIND,
                                recipients=recipients,
                                email=_email(ref, rnd, commune, today),
                                now=now,
                            )
                            named_at = now
                            result.named.append(f"{rnd.round} {commune}")
                        else:
                            # Nobody to tell: the operators see it (ops.contact_gap, the log).
                            note_contact_gap(
                                conn,
                                recipient_kind="police",
                                recipient_key=commune,
                                purpose=EMAIL_KIND,
                                period=rnd.due_on,
                                now=now,
                            )
                            result.without_contact.append(commune)
                values = {
                    "opens_on": rnd.opens_on,
                    "due_on": rnd.due_on,
                    "status": status,
                    "arrived_at": arrived_at,
                    "extract_id": extract_id,
                    "named_at": named_at,
                    "checked_at": now,
                }
                if row is None:
                    conn.execute(t.insert().values(**key, **values))
                else:
                    conn.execute(t.update().where(*(t.c[k] == v for k, v in key.items())).values(**values))
    log.info(
        "police rounds: %d opened; %s; %d communes named to their police now; no police contact: %s",
        result.rounds,
        ", ".join(f"{k} {v}" for k, v in result.by_status.items()),
        len(result.named),
        ", ".join(result.without_contact) or "none",
    )
    return result


def _status(
    rnd: PoliceRound, arrived: list[tuple[datetime, int]], today: date, settings: Settings
) -> tuple[str, datetime | None, int | None]:
    for at, extract_id in arrived:
        day = at.astimezone(settings.timezone).date()
        if day < rnd.opens_on:
            continue  # it answers an earlier request
        return ("on_time" if day <= rnd.due_on else "late"), at, extract_id
    return ("missing" if today > rnd.due_on else "pending"), None, None


def _email(ref: Reference, rnd: PoliceRound, commune: str, today: date) -> RenderedEmail:
    return render_email(
        EMAIL_KIND,
        commune_label=commune_label(ref, commune),
        round=rnd.round,
        opens_on=rnd.opens_on,
        due_on=rnd.due_on,
        checked_on=today,
        source=_source_phrase(rnd),
    )


def _source_phrase(rnd: PoliceRound) -> str:
    """The request the round answers, as the reference names it (the notice's sentence)."""
    return rnd.source.split(",")[0] if rnd.source else rnd.round
