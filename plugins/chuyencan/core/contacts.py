"""Who receives what: the contacts of every recipient, as reference data with validity dates.

`include/reference/contacts.csv` has one row per recipient, role and period:

    recipient_kind,recipient_key,role,emails,valid_from,valid_to,verified
    school,BX-AMS,Hiệu trưởng,amusung.batxat@example.org,2000-01-01,,no

- `recipient_kind`: `school` (key: school code, schools.csv), `commune` (the People's Committee;
  key: the commune's name as in communes.csv), `police` (the commune police post; key: the
  commune's name), `unit` (a reporting unit; key: its code, reporting_units.csv) or `office` (any
  other office the notice names; key: an upper-case code such as `NOI_VU_BAT_XAT`).
- `emails`: one or more addresses, `|`-separated. A recipient may have several rows in force at
  once (a principal and a deputy): every address in force is told.

`school_contacts.csv` (the documented input the rejection emails read, docs/contracts.md#6-reference-data)
is kept, and kept consistent by a check: every address it gives a school must be a contact of
that school in force today in contacts.csv (`load_contacts` reports the difference as a
problem). contacts.csv is the one that knows periods and every kind of recipient.

`load_contacts` lists every problem of the file at once (`ContactsError`), as the organisation's
loader does. A recipient with nothing in force is no silent skip: callers record it with
`note_contact_gap` (a warning naming the recipient and a row in `ops.contact_gap`, which the
chuyencan UI page lists for the operators).
"""

from __future__ import annotations

import csv
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.engine import Connection

from chuyencan.core import schema
from chuyencan.core import warehouse as wh
from chuyencan.core.reference import Reference, commune_key, load_reference
from chuyencan.core.settings import REFERENCE_DIR

log = logging.getLogger(__name__)

CONTACTS_FILE = "contacts.csv"
COLUMNS = ("recipient_kind", "recipient_key", "role", "emails", "valid_from", "valid_to", "verified")
RECIPIENT_KINDS = ("school", "commune", "police", "unit", "office")
_EMAIL = re.compile(r"^[^@\s|,;<>]+@[^@\s|,;<>]+\.[^@\s|,;<>]+$")
_OFFICE_KEY = re.compile(r"^[A-Z][A-Z0-9_]{1,63}$")


class ContactsError(ValueError):
    """contacts.csv contradicts itself or the rest of include/reference; one line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__(f"{len(self.problems)} problem(s) in {CONTACTS_FILE}:\n" + "\n".join(self.problems))


@dataclass(frozen=True)
class Contact:
    recipient_kind: str
    recipient_key: str  # as written in the file (a commune with its diacritics)
    role: str  # the title, as the recipient is addressed ("Hiệu trưởng")
    emails: tuple[str, ...]
    valid_from: date
    valid_to: date | None
    verified: bool

    def in_force(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


def recipient_id(kind: str, key: str) -> tuple[str, str]:
    """The matching key of a recipient: school codes and unit/office codes in upper case,
    communes and police posts by `commune_key` (case, diacritics and 'xã'/'thị trấn' never
    matter: 'A Mù Sung' finds 'A Mú Sung')."""
    if kind in ("commune", "police"):
        return kind, commune_key(key)
    return kind, key.strip().upper()


class Contacts:
    """Every contact of contacts.csv, queried by recipient and date."""

    def __init__(self, contacts: Iterable[Contact]) -> None:
        self.contacts = tuple(contacts)
        self._by_recipient: dict[tuple[str, str], list[Contact]] = defaultdict(list)
        for c in self.contacts:
            self._by_recipient[recipient_id(c.recipient_kind, c.recipient_key)].append(c)

    def for_recipient(self, kind: str, key: str, on: date) -> list[Contact]:
        """The recipient's contacts in force on `on` (empty: nobody to tell, see `note_contact_gap`)."""
        if kind not in RECIPIENT_KINDS:
            raise ValueError(f"unknown recipient kind {kind!r}; one of {', '.join(RECIPIENT_KINDS)}")
        return [c for c in self._by_recipient.get(recipient_id(kind, key), ()) if c.in_force(on)]

    def emails_for(self, kind: str, key: str, on: date) -> list[str]:
        """Every address of the recipient's contacts in force on `on`, each once, in file order."""
        out: list[str] = []
        for c in self.for_recipient(kind, key, on):
            out += [e for e in c.emails if e.lower() not in (o.lower() for o in out)]
        return out


def load_contacts(reference_dir: Path = REFERENCE_DIR, ref: Reference | None = None) -> Contacts:
    """contacts.csv, checked against schools.csv, communes.csv (and admin_units.csv),
    reporting_units.csv and school_contacts.csv; `ContactsError` lists every problem found. A
    folder without contacts.csv has no contacts (logged)."""
    ref = ref if ref is not None else load_reference(reference_dir)
    problems: list[str] = []
    path = reference_dir / CONTACTS_FILE
    if not path.is_file():
        # A reference folder without contacts (a generated province sample) still runs; every
        # recipient is then a recorded gap, never a silent skip.
        log.warning("%s has no %s: no recipient has a contact", reference_dir, CONTACTS_FILE)
        return Contacts(())
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ContactsError([f"{CONTACTS_FILE}: missing columns {', '.join(missing)}"])
        rows = [
            (f"{CONTACTS_FILE} line {reader.line_num}", {k: (v or "").strip() for k, v in row.items() if k})
            for row in reader
        ]
    known = _known_keys(reference_dir, ref)
    contacts: list[Contact] = []
    seen: dict[tuple[str, str, str, date], str] = {}
    for where, row in rows:
        contact = _contact(where, row, known, problems)
        if contact is None:
            continue
        ident = (
            *recipient_id(contact.recipient_kind, contact.recipient_key),
            contact.role.lower(),
            contact.valid_from,
        )
        if ident in seen:
            problems.append(f"{where}: same recipient, role and valid_from as {seen[ident]}")
            continue
        seen[ident] = where
        contacts.append(contact)
    result = Contacts(contacts)
    _check_school_contacts(reference_dir, result, problems)
    if problems:
        raise ContactsError(problems)
    return result


def validate_contacts(reference_dir: Path = REFERENCE_DIR) -> list[str]:
    """Every problem of contacts.csv; empty when it is consistent."""
    try:
        load_contacts(reference_dir)
    except ContactsError as exc:
        return list(exc.problems)
    return []


def _known_keys(reference_dir: Path, ref: Reference) -> dict[str, set[str]]:
    communes = {commune_key(n) for c in ref.communes for n in (c.name, *c.aliases)}
    # The communes created by the 2025 reform are in admin_units.csv only (issue 12).
    for r in _csv_rows(reference_dir / "admin_units.csv"):
        if r.get("kind") in ("xa", "phuong", "thi_tran"):
            names = [r.get("name") or "", *(r.get("aliases") or "").split("|")]
            communes |= {commune_key(n) for n in names if n.strip()}
    units = {(r.get("code") or "").strip().upper() for r in _csv_rows(reference_dir / "reporting_units.csv")}
    return {"school": set(ref.schools), "commune": communes, "police": communes, "unit": units}


def _csv_rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _contact(
    where: str, row: dict[str, str], known: dict[str, set[str]], problems: list[str]
) -> Contact | None:
    before = len(problems)
    kind, key, role = row["recipient_kind"].lower(), row["recipient_key"], row["role"]
    if kind not in RECIPIENT_KINDS:
        problems.append(f"{where}: recipient_kind {kind!r} is not one of {', '.join(RECIPIENT_KINDS)}")
    elif not key:
        problems.append(f"{where}: recipient_key is empty")
    elif kind == "office":
        if not _OFFICE_KEY.match(key):
            problems.append(f"{where}: office key {key!r} must be an upper-case code like NOI_VU_BAT_XAT")
    elif recipient_id(kind, key)[1] not in known[kind]:
        source = {"school": "schools.csv", "unit": "reporting_units.csv"}.get(
            kind, "communes.csv or admin_units.csv"
        )
        problems.append(f"{where}: {kind} {key!r} is not in {source}")
    if not role:
        problems.append(f"{where}: role is empty (the title the recipient is addressed by)")
    emails = tuple(e.strip() for e in row["emails"].split("|") if e.strip())
    if not emails:
        problems.append(f"{where}: no email address")
    bad = [e for e in emails if not _EMAIL.match(e)]
    if bad:
        problems.append(f"{where}: not an email address: {', '.join(bad)}")
    valid_from = _date(where, row, "valid_from", problems)
    valid_to = _date(where, row, "valid_to", problems) if row["valid_to"] else None
    if valid_from is not None and valid_to is not None and valid_to < valid_from:
        problems.append(f"{where}: valid_to {valid_to} is before valid_from {valid_from}")
    verified = row["verified"].lower()
    if verified not in ("yes", "no"):
        problems.append(f"{where}: verified must be yes or no, not {row['verified']!r}")
    if len(problems) > before or valid_from is None:
        return None
    return Contact(kind, key, role, emails, valid_from, valid_to, verified == "yes")


def _date(where: str, row: dict[str, str], column: str, problems: list[str]) -> date | None:
    try:
        return date.fromisoformat(row[column])
    except ValueError:
        problems.append(f"{where}: {column} {row[column]!r} is not a date (YYYY-MM-DD)")
        return None


def _check_school_contacts(reference_dir: Path, contacts: Contacts, problems: list[str]) -> None:
    """school_contacts.csv and contacts.csv agree: the address the rejection emails use is one
    of the school's contacts in force today."""
    path = reference_dir / "school_contacts.csv"
    if not path.is_file():
        return
    today = date.today()
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            code, email = (row.get("school_code") or "").strip(), (row.get("email") or "").strip()
            if not code or not email:
                continue
            current = [e.lower() for e in contacts.emails_for("school", code, today)]
            if email.lower() not in current:
                problems.append(
                    f"school_contacts.csv: {code}'s address is not a contact of {code} in force today "
                    f"in {CONTACTS_FILE} (keep the two files consistent)"
                )


# --- the warehouse ------------------------------------------------------------------------------


def write_contacts(engine: Engine, contacts: Contacts) -> None:
    """Replace `ref.contact` with the file's content, in one transaction."""
    with engine.begin() as conn:
        wh.serialise(conn, "chuyencan_reference_contacts")
        conn.execute(schema.ref_contact.delete())
        if contacts.contacts:
            conn.execute(
                schema.ref_contact.insert(),
                [
                    {
                        "recipient_kind": c.recipient_kind,
                        "recipient_key": c.recipient_key,
                        "role": c.role,
                        "valid_from": c.valid_from,
                        "valid_to": c.valid_to,
                        "emails": ", ".join(c.emails),
                        "verified": c.verified,
                    }
                    for c in contacts.contacts
                ],
            )


def note_contact_gap(
    conn: Connection, *, recipient_kind: str, recipient_key: str, purpose: str, period: date, now: datetime
) -> None:
    """Record that `purpose` (a document kind, a reminder) for `period` found no contact in force
    for a recipient: a warning naming the recipient and a row in `ops.contact_gap` (a rerun moves
    `last_noted_at`), inside the caller's transaction."""
    t = schema.ops_contact_gap
    key = {
        "recipient_kind": recipient_kind,
        "recipient_key": recipient_key,
        "purpose": purpose,
        "period": period,
    }
    found = conn.execute(
        select(t.c.recipient_key).where(*(t.c[name] == value for name, value in key.items()))
    ).first()
    if found is None:
        conn.execute(t.insert().values(**key, first_noted_at=now, last_noted_at=now))
    else:
        conn.execute(
            t.update().where(*(t.c[name] == value for name, value in key.items())).values(last_noted_at=now)
        )
    log.warning(
        "no contact in force for %s %s (%s, %s): nobody was told; add one to include/reference/%s",
        recipient_kind,
        recipient_key,
        purpose,
        period.isoformat(),
        CONTACTS_FILE,
    )


def contact_gaps(engine: Engine, since: date | None = None) -> list[dict[str, object]]:
    """The recorded gaps, newest first (for the operators' page and run notes)."""
    t = schema.ops_contact_gap
    query = select(t).order_by(t.c.last_noted_at.desc(), t.c.recipient_kind, t.c.recipient_key)
    if since is not None:
        query = query.where(t.c.period >= since)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]
