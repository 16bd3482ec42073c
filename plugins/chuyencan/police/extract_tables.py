"""Tables of the police extract intake, matching, review and audit.

`ops` holds what is not personal (which file came, from which commune, for which round, what was
wrong with it: row numbers and rules, values of personal columns masked). Everything about a
person, the household records and what was matched to whom, lives in `restricted`.

The household records (`restricted.police_resident`) and the matcher's working table
(`restricted.case_match`) are deleted `Settings.police_retention_days` after their extract was
loaded (`chuyencan.police.retention`); verdicts, reviewer decisions and the audit trail stay.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from chuyencan.warehouse import metadata

EXTRACT_OUTCOMES = ("accepted", "rejected")
REVIEW_DECISIONS = ("confirm", "reject")

# One row per distinct file (by content hash) found in the police inbox.
police_extract = Table(
    "police_extract",
    metadata,
    Column("extract_id", Integer, primary_key=True, autoincrement=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("inbox_path", Text, nullable=False),  # relative to the police inbox
    Column("file_size", BigInteger, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),  # the file's time
    Column("processed_at", DateTime(timezone=True), nullable=False),
    Column("commune", Text),  # resolved commune name (null when unreadable)
    # The date the extract speaks for: its latest `ngay_xac_minh`, else the file's local date.
    Column("extract_round", Date),
    Column("outcome", String(16), nullable=False),  # accepted / rejected
    Column("record_count", Integer, nullable=False),
    Column("error_count", Integer, nullable=False),
    Column("warning_count", Integer, nullable=False),
    Column("stored_path", Text, nullable=False),  # archive or quarantine copy in the work dir
    Column("summary", Text),  # first error in Vietnamese (no personal data)
    Column("purged_at", DateTime(timezone=True)),  # household rows and stored copy deleted
    schema="ops",
)
Index("ix_police_extract_commune", police_extract.c.commune, police_extract.c.extract_round)

police_extract_issue = Table(
    "police_extract_issue",
    metadata,
    Column("extract_id", Integer, nullable=False, index=True),
    Column("severity", String(8), nullable=False),
    Column("row", Integer),  # the row as the sender sees it (header = row 1 in a CSV)
    Column("column_key", String(32)),
    Column("rule", String(64), nullable=False),
    Column("value", Text),  # masked for personal columns
    schema="ops",
)

# The extract in effect for each commune: the newest accepted one by (round, file time) whose
# household rows are still kept.
police_extract_current = Table(
    "police_extract_current",
    metadata,
    Column("commune", Text, primary_key=True),
    Column("extract_id", Integer, nullable=False),
    Column("extract_round", Date, nullable=False),
    schema="ops",
)

# The household records of accepted extracts (personal data; deleted after retention).
police_resident = Table(
    "police_resident",
    metadata,
    Column("extract_id", Integer, nullable=False),
    Column("source_row", Integer, nullable=False),
    # Stable key of the person across extracts: from the personal ID when the police gave a
    # valid one, else from name, birth and household head (see police.intake.resident_keys).
    Column("resident_key", String(32), nullable=False),
    Column("name_key", String(32), nullable=False),  # the name-based key, always set
    Column("personal_id", String(12)),  # only a valid 12-digit ID is kept
    Column("full_name", Text, nullable=False),
    Column("birth_date", Date),
    Column("birth_year", Integer, nullable=False),
    Column("sex", String(1), nullable=False),
    Column("commune", Text, nullable=False),
    Column("village", Text),
    Column("household_head", Text),
    Column("relation", Text),
    Column("residence_status", String(16), nullable=False),
    Column("status_changed_on", Date),
    Column("destination", Text),
    Column("workplace", Text),
    Column("verified_on", Date),
    PrimaryKeyConstraint("extract_id", "source_row"),
    schema="restricted",
)
Index("ix_police_resident_key", police_resident.c.resident_key)

# The matcher's latest answer for each open case (replaced on every matching run).
case_match = Table(
    "case_match",
    metadata,
    Column("student_key", String(64), primary_key=True),
    Column("school_code", String(32), nullable=False),
    Column("commune", Text),  # the student's home commune, resolved
    Column("extract_id", Integer),  # the commune's extract in effect; null: no police data
    Column("decision", String(16), nullable=False),  # match / ambiguous / no_match / no_police_data
    Column("resident_id", String(32)),  # "<extract_id>:<source_row>" of the match
    Column("score", Float),
    Column("candidates", Text),  # JSON list of resident ids, best first
    Column("agreed", Text),  # comma-separated field names
    Column("disagreed", Text),
    Column("matched_at", DateTime(timezone=True), nullable=False),
    schema="restricted",
)

# A district officer's decision about one police record for one case. Keyed by the person's
# stable keys, never a row number, so it survives reruns and newer extracts.
review_decision = Table(
    "review_decision",
    metadata,
    Column("student_key", String(64), nullable=False),
    Column("resident_key", String(32), nullable=False),
    Column("name_key", String(32)),  # also recognised by this key (the ID may appear later)
    Column("decision", String(8), nullable=False),  # confirm / reject
    Column("reviewer", Text, nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    Column("source", Text),  # "table" or the returned review file's name
    Column("note", Text),
    PrimaryKeyConstraint("student_key", "resident_key"),
    schema="restricted",
)

# One row per cross-agency match result: a case compared with a commune's police extract. A rerun
# that reaches the same result adds nothing (`audit_key`).
match_audit = Table(
    "match_audit",
    metadata,
    Column("audit_id", Integer, primary_key=True, autoincrement=True),
    Column("audit_key", String(64), nullable=False, unique=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("student_key", String(64), nullable=False, index=True),
    Column("school_code", String(32), nullable=False),
    Column("extract_id", Integer, nullable=False),
    Column("commune", Text, nullable=False),
    Column("extract_round", Date, nullable=False),
    Column("matcher_decision", String(16), nullable=False),  # match / ambiguous / no_match
    Column("verdict", String(16), nullable=False),
    Column("score", Float),
    Column("resident_key", String(32)),  # the record the verdict rests on, if any
    Column("decided_by", String(16), nullable=False),  # auto / reviewer
    Column("reviewer", Text),  # who, when decided_by = reviewer
    schema="restricted",
)
