"""Every table of the warehouse, on one `MetaData`, in four schemas.

`ref` reference data (reloaded every run), `ops` the pipeline's bookkeeping and non-personal
facts, `report` the aggregates the district reads, `restricted` children's personal data.
Changing a table here needs an Alembic revision (core/migrations/versions, docs/architecture.md):
`alembic check` in tests/test_migrations.py fails while the two disagree.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

SCHEMAS = ("ref", "ops", "report", "restricted")

# 2 GiB and more is refused on its size and recorded with it (issue 10); SQLite's INTEGER
# already holds 8 bytes.
FILE_SIZE = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

# --- ref: reference data, reloaded from include/reference on every run -----------------------
ref_school = Table(
    "school",
    metadata,
    Column("school_code", String(32), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("grade_min", Integer, nullable=False),
    Column("grade_max", Integer, nullable=False),
    Column("commune", Text),
    Column("boarding", String(16)),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date),
    Column("email", Text),
    schema="ref",
)
ref_commune = Table(
    "commune",
    metadata,
    Column("commune_name", Text, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("district", Text, nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date),
    Column("successor", Text),
    Column("aliases", Text),
    Column("verified", Boolean, nullable=False),
    schema="ref",
)
ref_calendar = Table(
    "calendar_event",
    metadata,
    Column("school_year", String(9), nullable=False),
    Column("event", String(16), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("label", Text, nullable=False),
    Column("verified", Boolean, nullable=False),
    UniqueConstraint("school_year", "event", "start_date"),
    schema="ref",
)
ref_school_week = Table(
    "school_week",
    metadata,
    Column("week_ending", Date, primary_key=True),
    Column("school_year", String(9), nullable=False),
    Column("school_days", Integer, nullable=False),
    schema="ref",
)

ref_grade_level = Table(
    "grade_level",
    metadata,
    Column("grade", Integer, primary_key=True),
    Column("level", String(4), nullable=False),
    schema="ref",
)

# The organisation (include/reference/admin_units.csv, reporting_units.csv/.json,
# school_units.csv; chuyencan.core.organisation, docs/organisation.md): one row per unit and
# period, so SQL and the authority's own queries can join a report's rows to who it is for.
ref_admin_unit = Table(
    "admin_unit",
    metadata,
    Column("code", String(16), primary_key=True),
    Column("valid_from", Date, primary_key=True),
    Column("valid_to", Date),
    Column("name", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("level", Integer, nullable=False),  # 1 province, 2 district, 3 commune
    Column("parent_code", String(16)),
    Column("successors", Text),  # codes, '|'-separated
    Column("aliases", Text),  # '|'-separated
    Column("source", Text),
    Column("verified", Boolean, nullable=False),
    schema="ref",
)
ref_reporting_unit = Table(
    "reporting_unit",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("valid_from", Date, primary_key=True),
    Column("valid_to", Date),
    Column("name", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("admin_unit", String(16), nullable=False),
    Column("parent_code", String(64)),
    Column("schedule", String(16), nullable=False),
    Column("emails", Text),  # '|'-separated
    Column("verified", Boolean, nullable=False),
    Column("letterhead", Text, nullable=False),  # JSON, the fields of organisation.Letterhead
    schema="ref",
)
ref_school_unit = Table(
    "school_unit",
    metadata,
    Column("school_code", String(32), primary_key=True),
    Column("valid_from", Date, primary_key=True),
    Column("valid_to", Date),
    Column("reporting_unit", String(64), nullable=False),
    Column("basis", Text),
    Column("verified", Boolean, nullable=False),
    schema="ref",
)

# --- ops: the pipeline's own bookkeeping and non-personal facts ------------------------------
ops_meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    schema="ops",
)
ops_submission = Table(
    "submission",
    metadata,
    Column("submission_id", Integer, primary_key=True, autoincrement=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("inbox_path", Text, nullable=False),  # relative to the inbox
    Column("file_size", FILE_SIZE, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),  # the file's time
    Column("processed_at", DateTime(timezone=True), nullable=False),
    Column("school_code", String(32)),  # as read from the workbook (null if unreadable)
    Column("week_ending", Date),
    Column("outcome", String(16), nullable=False),  # accepted / rejected
    Column("version", Integer),  # accepted versions of (school, week), 1-based
    Column("error_count", Integer, nullable=False),
    Column("warning_count", Integer, nullable=False),
    Column("stored_path", Text, nullable=False),  # archive or quarantine copy, in the work dir
    Column("summary", Text),  # first error, for the operator (no personal data)
    schema="ops",
)
Index("ix_submission_school_week", ops_submission.c.school_code, ops_submission.c.week_ending)
ops_submission_issue = Table(
    "submission_issue",
    metadata,
    Column("submission_id", Integer, nullable=False, index=True),
    Column("severity", String(8), nullable=False),  # error / warning
    Column("sheet", String(32)),
    Column("row", Integer),
    Column("column_key", String(32)),
    Column("rule", String(64), nullable=False),
    Column("value", Text),  # masked for personal columns
    Column("class_name", Text),
    schema="ops",
)
ops_current_submission = Table(
    "current_submission",
    metadata,
    Column("school_code", String(32), primary_key=True),
    Column("week_ending", Date, primary_key=True),
    Column("submission_id", Integer, nullable=False),
    schema="ops",
)
ops_class_attendance = Table(
    "class_attendance",
    metadata,
    Column("submission_id", Integer, nullable=False),
    Column("school_code", String(32), nullable=False),
    Column("week_ending", Date, nullable=False),
    Column("grade", Integer, nullable=False),
    Column("class_name", Text, nullable=False),
    Column("enrolled", Integer, nullable=False),
    Column("school_days", Integer, nullable=False),
    Column("absent_excused", Integer, nullable=False),
    Column("absent_unexcused", Integer, nullable=False),
    Column("source_row", Integer, nullable=False),
    UniqueConstraint("submission_id", "class_name"),
    schema="ops",
)
Index("ix_class_attendance_week", ops_class_attendance.c.week_ending, ops_class_attendance.c.school_code)
ops_email_outbox = Table(
    "email_outbox",
    metadata,
    Column("email_id", Integer, primary_key=True, autoincrement=True),
    Column("dedup_key", String(200), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("recipients", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("body_text", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("attachments", Text),  # JSON list of paths in the work dir
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    schema="ops",
)

# --- report: the contract's aggregates, read by the district (docs/contracts.md#5-warehouse) ---
report_submission_status = Table(
    "submission_status",
    metadata,
    Column("week_ending", Date, primary_key=True),
    Column("school_code", String(32), primary_key=True),
    Column("status", String(8), nullable=False),
    Column("received_at", DateTime(timezone=True)),
    Column("version", Integer, nullable=False),
    Column("error_count", Integer, nullable=False),
    # The school's reporting unit on the week's Friday (chuyencan.core.organisation).
    Column("reporting_unit", String(64), primary_key=True),
    schema="report",
)
report_attendance_weekly = Table(
    "attendance_weekly",
    metadata,
    Column("week_ending", Date, primary_key=True),
    Column("school_code", String(32), primary_key=True),
    Column("commune", Text),
    Column("level", String(4), nullable=False),
    Column("grade", Integer, primary_key=True),
    Column("classes", Integer, nullable=False),
    Column("enrolled", Integer, nullable=False),
    Column("student_days_scheduled", Integer, nullable=False),
    Column("absent_excused", Integer, nullable=False),
    Column("absent_unexcused", Integer, nullable=False),
    Column("attendance_rate", Float),
    # The school's reporting unit on the week's Friday (chuyencan.core.organisation).
    Column("reporting_unit", String(64), primary_key=True),
    schema="report",
)

# --- restricted: personal data (children) -----------------------------------------------------
restricted_student_entry = Table(
    "student_entry",
    metadata,
    Column("submission_id", Integer, nullable=False, index=True),
    Column("school_code", String(32), nullable=False),
    Column("week_ending", Date, nullable=False),
    Column("source_row", Integer, nullable=False),
    Column("student_key", String(64), nullable=False),
    Column("personal_id", String(12)),
    Column("full_name", Text, nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("sex", String(1), nullable=False),
    Column("ethnicity", Text),
    Column("grade", Integer, nullable=False),
    Column("class_name", Text, nullable=False),
    Column("commune", Text, nullable=False),
    Column("village", Text, nullable=False),
    Column("parent_name", Text),
    Column("status", String(16), nullable=False),
    Column("first_day_missed", Date),
    Column("sessions_missed", Integer, nullable=False),
    Column("reason_code", String(16)),
    Column("reason_text", Text),
    Column("destination", Text),
    schema="restricted",
)


# --- police extracts: intake, matching, review and audit --------------------------------------
# Tables of the police extract intake, matching, review and audit.
#
# `ops` holds what is not personal (which file came, from which commune, for which round, what was
# wrong with it: row numbers and rules, values of personal columns masked). Everything about a
# person, the household records and what was matched to whom, lives in `restricted`.
#
# The household records (`restricted.police_resident`) and the matcher's working table
# (`restricted.case_match`) are deleted `Settings.police_retention_days` after their extract was
# loaded (`chuyencan.police.retention`); verdicts, reviewer decisions and the audit trail stay.

# One row per distinct file (by content hash) found in the police inbox.
police_extract = Table(
    "police_extract",
    metadata,
    Column("extract_id", Integer, primary_key=True, autoincrement=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("inbox_path", Text, nullable=False),  # relative to the police inbox
    Column("file_size", FILE_SIZE, nullable=False),
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
    # valid one, else from name, birth and household head (see police.intake._keys).
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


# --- police reconciliation: verdicts (personal data: restricted only) -------------------------
VERDICTS = ("left_locality", "in_locality", "deceased", "ambiguous", "not_found", "no_police_data")

# The current verdict about each open case (a student on a school's latest list with status
# bo_hoc, vang_dai_ngay or nguy_co), keyed like restricted.student_entry.student_key. The
# fortnightly report counts left_locality / in_locality from here; anything else, or no row,
# is unverified.
case_verdict = Table(
    "case_verdict",
    metadata,
    Column("student_key", String(64), primary_key=True),
    Column("school_code", String(32), nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("score", Float),  # match probability of the chosen record, when there is one
    Column("agreed", Text),  # fields that agreed, comma-separated (no values)
    Column("disagreed", Text),  # fields that disagreed, comma-separated (no values)
    Column("destination", Text),  # where the student went (left_locality only)
    Column("workplace", Text),
    Column("extract_commune", Text),
    Column("extract_round", Date),
    Column("decided_by", String(16), nullable=False),  # auto / reviewer
    Column("decided_at", DateTime(timezone=True), nullable=False),
    schema="restricted",
)


# --- the fortnightly report: the contract's summary and breakdown (docs/contracts.md#5-warehouse),
# early warning
# docs/contracts.md#5-warehouse, in the contract's column order; aggregates only.
fortnight_summary = Table(
    "fortnight_summary",
    metadata,
    Column("report_date", Date, primary_key=True),
    Column("scope", String(8), primary_key=True),
    Column("scope_key", String(64), primary_key=True),
    Column("schools_expected", Integer, nullable=False),
    Column("submissions_on_time", Integer, nullable=False),
    Column("submissions_late", Integer, nullable=False),
    Column("submissions_missing", Integer, nullable=False),
    Column("submissions_rejected", Integer, nullable=False),
    Column("enrolled", Integer),
    Column("attendance_rate", Float),
    Column("dropouts_open", Integer, nullable=False),
    Column("dropouts_new", Integer, nullable=False),
    Column("dropouts_summer", Integer, nullable=False),
    Column("dropouts_hk1", Integer, nullable=False),
    Column("dropouts_hk2", Integer, nullable=False),
    Column("dropouts_after_tet", Integer, nullable=False),
    Column("left_locality", Integer, nullable=False),
    Column("in_locality", Integer, nullable=False),
    Column("unverified", Integer, nullable=False),
    Column("eligible_to_continue", Integer, nullable=False),
    Column("not_eligible", Integer, nullable=False),
    Column("returned", Integer, nullable=False),
    Column("at_risk", Integer, nullable=False),
    # The unit whose report the row belongs to (docs/organisation.md#the-report-of-a-unit).
    Column("reporting_unit", String(64), primary_key=True),
    schema="report",
)

# docs/contracts.md#5-warehouse: long form, one row per report date, scope, dimension and category; counts only
# (dimensions and categories: chuyencan.report.dimensions, docs/report-figures.md).
fortnight_breakdown = Table(
    "fortnight_breakdown",
    metadata,
    Column("report_date", Date, primary_key=True),
    Column("scope", String(8), primary_key=True),
    Column("scope_key", String(64), primary_key=True),
    Column("dimension", String(24), primary_key=True),
    Column("category", String(24), primary_key=True),
    Column("students", Integer, nullable=False),
    Column("reporting_unit", String(64), primary_key=True),
    schema="report",
)

# Police verification rounds (include/reference/police_rounds.csv): one row per reporting unit,
# round and commune asked; whether and when the commune's extract arrived, and when the commune
# police were told it was missing (once). Commune names and dates only: no personal data.
police_round_arrival = Table(
    "police_round_arrival",
    metadata,
    Column("reporting_unit", String(64), primary_key=True),
    Column("round", String(32), primary_key=True),
    Column("commune", String(128), primary_key=True),
    Column("opens_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    # on_time / late / missing (past the due date, nothing yet) / pending (not due yet)
    Column("status", String(8), nullable=False),
    Column("arrived_at", DateTime(timezone=True)),  # the first accepted extract's file time
    Column("extract_id", Integer),  # ops.police_extract
    Column("named_at", DateTime(timezone=True)),  # the commune police were emailed: missing
    Column("checked_at", DateTime(timezone=True), nullable=False),
    schema="report",
)

# Early warning: one row per student flagged at risk for a report date (personal: restricted).
student_risk = Table(
    "student_risk",
    metadata,
    Column("report_date", Date, primary_key=True),
    Column("student_key", String(64), primary_key=True),
    Column("school_code", String(32), nullable=False),
    Column("grade", Integer, nullable=False),
    Column("level", String(4), nullable=False),
    Column("commune", Text),  # the student's home commune (resolved)
    Column("reasons", Text, nullable=False),  # rule ids, comma-separated
    Column("sessions_missed", Integer),
    schema="restricted",
)

# --- the outward half (issue 13): who receives what, and what was delivered -------------------
# Contacts per recipient and period (include/reference/contacts.csv, `chuyencan.core.contacts`):
# officials' work addresses, no children's data.
ref_contact = Table(
    "contact",
    metadata,
    Column("recipient_kind", String(16), primary_key=True),  # school, commune, police, unit, office
    Column("recipient_key", String(64), primary_key=True),
    Column("role", String(128), primary_key=True),
    Column("valid_from", Date, primary_key=True),
    Column("valid_to", Date),
    Column("emails", Text, nullable=False),  # comma-separated
    Column("verified", Boolean, nullable=False),
    schema="ref",
)
# A recipient the pipeline had something for but no contact in force (`chuyencan.core.contacts`):
# shown to the operators on the chuyencan UI page, never a silent skip. One row per recipient,
# purpose and period; `last_noted_at` moves when a rerun meets the same gap.
ops_contact_gap = Table(
    "contact_gap",
    metadata,
    Column("recipient_kind", String(16), primary_key=True),
    Column("recipient_key", String(64), primary_key=True),
    Column("purpose", String(48), primary_key=True),  # a document kind, or a reminder's kind
    Column("period", Date, primary_key=True),
    Column("first_noted_at", DateTime(timezone=True), nullable=False),
    Column("last_noted_at", DateTime(timezone=True), nullable=False),
    schema="ops",
)
# Every document delivered into a recipient's folder on the share (`chuyencan.core.delivery`):
# who, what, for which period, which bytes, when, and who was told. Restricted because the
# documents it points at are; the row stays after retention deleted the copy (`purged_at`).
delivery = Table(
    "delivery",
    metadata,
    Column("delivery_id", Integer, primary_key=True, autoincrement=True),
    Column("recipient_kind", String(16), nullable=False),
    Column("recipient_key", String(64), nullable=False),
    Column("document_kind", String(48), nullable=False),
    Column("period", Date, nullable=False),
    Column("batch", String(64), nullable=False),  # deliveries announced in one email
    Column("file_name", String(255), nullable=False),
    Column("stored_path", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("file_size", FILE_SIZE, nullable=False),
    Column("delivered_at", DateTime(timezone=True), nullable=False),
    Column("notified", Text),  # contact addresses the notice went to, comma-separated; None: no contact
    Column("notice_key", String(200)),  # the notice's dedup key in ops.email_outbox
    Column("purged_at", DateTime(timezone=True)),
    UniqueConstraint("recipient_kind", "recipient_key", "document_kind", "period", "sha256"),
    schema="restricted",
)
Index("ix_delivery_delivered_at", delivery.c.delivered_at)


# --- commune verification lists and their returns (issue 13, docs/verification.md) ----------------
# Which commune was sent a verification list for which report date, and how many children it
# names: counts only (ops). Who is on it is restricted (verification_list_entry).
verification_list = Table(
    "verification_list",
    metadata,
    Column("report_date", Date, primary_key=True),
    Column("commune_code", String(16), primary_key=True),  # the administrative unit's code
    Column("commune", Text, nullable=False),  # its name in force on the report date
    Column("recipient_key", Text, nullable=False),  # its folder's key on the share (contacts' key)
    Column("children", Integer, nullable=False),
    Column("file_name", Text, nullable=False),
    Column("written_at", DateTime(timezone=True), nullable=False),
    schema="ops",
)

# The case keys each commune's list carried (the workbook's hidden column): a returned row is
# accepted only for a key the commune was sent.
verification_list_entry = Table(
    "verification_list_entry",
    metadata,
    Column("report_date", Date, primary_key=True),
    Column("commune_code", String(16), primary_key=True),
    Column("student_key", String(64), primary_key=True),
    Column("school_code", String(32), nullable=False),
    schema="restricted",
)

# One row per distinct returned workbook (by content hash), accepted or rejected: like
# ops.submission, nothing personal (issues carry masked values).
verification_return = Table(
    "verification_return",
    metadata,
    Column("return_id", Integer, primary_key=True, autoincrement=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("inbox_path", Text, nullable=False),  # relative to <delivery_dir>/commune
    Column("file_size", FILE_SIZE, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),  # the file's time
    Column("processed_at", DateTime(timezone=True), nullable=False),
    Column("commune_code", String(16), nullable=False),  # the folder it was dropped into
    Column("list_date", Date),  # the list it answers (null when unreadable)
    Column("outcome", String(16), nullable=False),  # accepted / rejected
    Column("version", Integer),  # accepted returns of (commune, list_date), 1-based
    Column("findings", Integer, nullable=False),  # filled rows (accepted only)
    Column("error_count", Integer, nullable=False),
    Column("stored_path", Text, nullable=False),  # archive or quarantine copy in the work dir
    Column("summary", Text),  # first error, in English, for the operator
    schema="ops",
)

verification_return_issue = Table(
    "verification_return_issue",
    metadata,
    Column("return_id", Integer, nullable=False, index=True),
    Column("row", Integer),  # the sheet's row number as the commune sees it
    Column("column_key", String(32)),
    Column("rule", String(64), nullable=False),
    Column("value", Text),  # masked for personal columns
    schema="ops",
)

# What the commune found for each child of an accepted return. A child's finding in force is
# the one of the latest accepted return that has a filled row for the child
# (chuyencan.report.verification_findings).
VERIFIED_PRESENCE = ("co_mat", "da_di_khoi")
verification_finding = Table(
    "verification_finding",
    metadata,
    Column("return_id", Integer, primary_key=True),
    Column("student_key", String(64), primary_key=True),
    Column("commune_code", String(16), nullable=False),
    Column("presence", String(16), nullable=False),  # co_mat / da_di_khoi
    Column("destination", Text),  # nơi đến, as written
    Column("workplace", String(24)),  # a workplace_kind code of report.fortnight_breakdown
    Column("cause", String(16)),  # a cause code of the contract (ly_do)
    Column("visited_on", Date, nullable=False),
    Column("note", Text),
    schema="restricted",
)

# Per report date and commune: has the commune answered its lists? Counts and dates only; the
# report names a commune whose lists went unanswered for two fortnights.
commune_verification = Table(
    "commune_verification",
    metadata,
    Column("report_date", Date, primary_key=True),
    Column("commune_code", String(16), primary_key=True),
    Column("commune", Text, nullable=False),
    Column("lists_sent", Integer, nullable=False),  # lists with children before the report date
    Column("last_list_date", Date),
    Column("last_return_on", Date),  # local date of the latest accepted return
    Column("lists_without_return", Integer, nullable=False),  # sent after the latest return
    Column("overdue", Boolean, nullable=False),  # two or more fortnights without a return
    # The unit whose report names the commune: the most specific one whose area holds it.
    Column("reporting_unit", String(64), nullable=False),
    schema="report",
)
