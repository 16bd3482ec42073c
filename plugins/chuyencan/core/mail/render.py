"""Render the pipeline's emails from the Jinja templates in include/templates/email.

Each email is three templates: `<kind>.subject.j2`, `<kind>.txt.j2` and `<kind>.html.j2`.
The wording lives in the templates (reviewed as text, in Vietnamese); this module only
turns typed contexts into template variables and formats dates the Vietnamese way.

Personal data never reaches these templates from here: callers pass values already masked,
and the contexts carry nothing about a student beyond an issue's masked value.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from chuyencan.core.settings import INCLUDE_DIR, TIMEZONE
from chuyencan.core.wording import Wording

TEMPLATE_DIR = INCLUDE_DIR / "templates" / "email"
# An email with hundreds of table rows is unreadable and may be clipped by Gmail (~100 kB);
# the full list travels as an attachment or stays in the quarantine report.
MAX_TABLE_ROWS = 50
# Warnings do not reject a file; a short sample is enough and keeps the email under that limit.
MAX_WARNING_ROWS = 20
# Long free-text cells (a whole paragraph pasted into "Lý do") would break the table layout.
MAX_CELL_CHARS = 80

_BLANK_RUNS = re.compile(r"\n{3,}")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class IssueLine:
    """One problem in a submitted workbook, as the school should read it."""

    sheet: str
    row: int | None  # the Excel row number, as the school sees it
    column: str | None  # Vietnamese header
    class_name: str | None
    value: str | None  # already masked by the caller for personal columns
    message: str  # Vietnamese: what is wrong
    fix: str  # Vietnamese: how to fix it


@dataclass(frozen=True)
class RejectionContext:
    school_code: str
    school_name: str
    week_ending: date
    file_name: str  # as received
    received_at: datetime
    deadline: datetime
    error_count: int
    errors: Sequence[IssueLine]
    warnings: Sequence[IssueLine] = ()
    # Name of the attached file holding every issue; None when it is only in the quarantine report.
    full_list_attachment: str | None = None
    contact: str | None = None  # who the school can call or write to, shown as given


@dataclass(frozen=True)
class AcceptedWithWarningsContext:
    """A file that was loaded but carries warnings: the school is told what to double-check."""

    school_code: str
    school_name: str
    week_ending: date
    file_name: str  # as received
    received_at: datetime
    deadline: datetime
    warnings: Sequence[IssueLine]
    contact: str | None = None


@dataclass(frozen=True)
class SchoolRef:
    school_code: str
    school_name: str


@dataclass(frozen=True)
class LateSchool:
    school_code: str
    school_name: str
    received_at: datetime


@dataclass(frozen=True)
class RejectedSchool:
    school_code: str
    school_name: str
    received_at: datetime | None
    error_count: int
    first_error: str | None  # Vietnamese, no personal data


@dataclass(frozen=True)
class UnattributedFile:
    path: str  # relative to the inbox
    reason: str  # Vietnamese
    received_at: datetime | None = None


@dataclass(frozen=True)
class DistrictWeeklyContext:
    week_ending: date
    deadline: datetime
    expected: int
    on_time: int
    late: Sequence[LateSchool] = ()
    missing: Sequence[SchoolRef] = ()
    rejected: Sequence[RejectedSchool] = ()
    unattributed: Sequence[UnattributedFile] = ()
    generated_at: datetime | None = None


@dataclass(frozen=True)
class UnreadableFileContext:
    file_name: str
    inbox_path: str  # relative to the inbox
    received_at: datetime
    # What is wrong and how to fix it, in Vietnamese: the message catalogue's words
    # (include/expectations/messages.vi.json), so a school reads the same sentence everywhere.
    problem: str
    fix: str
    # Set when the file's folder says which school sent it: the email then addresses the school.
    school_name: str | None = None
    deadline: datetime | None = None
    contact: str | None = None


def render_rejection(
    ctx: RejectionContext, *, max_rows: int = MAX_TABLE_ROWS, max_warning_rows: int = MAX_WARNING_ROWS
) -> RenderedEmail:
    _require_aware(received_at=ctx.received_at, deadline=ctx.deadline)
    # The caller may pass only the first errors of a long list; error_count is the real total.
    total_errors = max(ctx.error_count, len(ctx.errors))
    errors = list(ctx.errors[:max_rows])
    warnings = list(ctx.warnings[:max_warning_rows])
    return render_email(
        "rejection",
        school_code=ctx.school_code,
        school_name=ctx.school_name,
        week_ending=ctx.week_ending,
        file_name=ctx.file_name,
        received_at=ctx.received_at,
        deadline=ctx.deadline,
        deadline_passed=ctx.received_at > ctx.deadline,
        error_count=total_errors,
        errors=errors,
        more_errors=total_errors - len(errors),
        warning_count=len(ctx.warnings),
        warnings=warnings,
        more_warnings=len(ctx.warnings) - len(warnings),
        full_list_attachment=ctx.full_list_attachment,
        contact=ctx.contact,
    )


def render_accepted_with_warnings(
    ctx: AcceptedWithWarningsContext, *, max_rows: int = MAX_TABLE_ROWS
) -> RenderedEmail:
    _require_aware(received_at=ctx.received_at, deadline=ctx.deadline)
    warnings = list(ctx.warnings[:max_rows])
    return render_email(
        "accepted_with_warnings",
        school_code=ctx.school_code,
        school_name=ctx.school_name,
        week_ending=ctx.week_ending,
        file_name=ctx.file_name,
        received_at=ctx.received_at,
        deadline=ctx.deadline,
        deadline_passed=ctx.received_at > ctx.deadline,
        warning_count=len(ctx.warnings),
        warnings=warnings,
        more_warnings=len(ctx.warnings) - len(warnings),
        contact=ctx.contact,
    )


def render_district_weekly(ctx: DistrictWeeklyContext) -> RenderedEmail:
    _require_aware(
        deadline=ctx.deadline,
        generated_at=ctx.generated_at,
        **{f"late[{i}]": s.received_at for i, s in enumerate(ctx.late)},
    )
    return render_email(
        "district_weekly",
        week_ending=ctx.week_ending,
        deadline=ctx.deadline,
        generated_at=ctx.generated_at,
        expected=ctx.expected,
        on_time=ctx.on_time,
        late=list(ctx.late),
        missing=list(ctx.missing),
        rejected=list(ctx.rejected),
        unattributed=list(ctx.unattributed),
        on_time_rate=(ctx.on_time / ctx.expected) if ctx.expected else None,
    )


def render_unreadable_file(ctx: UnreadableFileContext) -> RenderedEmail:
    _require_aware(received_at=ctx.received_at, deadline=ctx.deadline)
    return render_email(
        "unreadable_file",
        file_name=ctx.file_name,
        inbox_path=ctx.inbox_path,
        received_at=ctx.received_at,
        problem=ctx.problem,
        fix=ctx.fix,
        school_name=ctx.school_name,
        deadline=ctx.deadline,
        deadline_passed=ctx.deadline is not None and ctx.received_at > ctx.deadline,
        contact=ctx.contact,
    )


def render_notice(
    name: str, *, items: Sequence[Mapping[str, object]] = (), **fields: object
) -> RenderedEmail:
    """A short notice worded in include/wording/mail.vi.json (`notices.<name>`: subject,
    greeting, paragraphs before and after a list of items). Fields are names, codes, dates and
    counts, never a child's data; each item is the entry's `item` text filled with its fields."""
    w = Wording("mail", **fields)
    entry = w.raw(f"notices.{name}")
    return render_email(
        "notice",
        subject=w.fill(entry["subject"]),
        greeting=w.fill(entry["greeting"]),
        before=[w.fill(p) for p in entry["before"]],
        items=[w.fill(entry["item"], **item) for item in items],
        after=[w.fill(p) for p in entry["after"]],
    )


# --- rendering ---------------------------------------------------------------------------------


def render_email(kind: str, **variables: Any) -> RenderedEmail:
    env = environment(TEMPLATE_DIR)
    subject = env.get_template(f"{kind}.subject.j2").render(**variables)
    text = env.get_template(f"{kind}.txt.j2").render(**variables)
    html = env.get_template(f"{kind}.html.j2").render(**variables)
    # One line, whatever the template's layout: a newline in a subject would end the header.
    subject = " ".join(subject.split())
    text = _BLANK_RUNS.sub("\n\n", _TRAILING_SPACE.sub("\n", text)).strip() + "\n"
    return RenderedEmail(subject=_nfc(subject), text=_nfc(text), html=_nfc(html))


@lru_cache(maxsize=4)
def environment(directory: Path) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(directory), encoding="utf-8"),
        # Only the HTML twin is escaped; subjects and plain text must keep "<" and "&" as typed.
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    # The sender's name is data: the 2025 reform abolished districts, so it will change.
    env.globals["office"] = (directory / "office.txt").read_text(encoding="utf-8").strip()
    env.filters.update(
        dt=format_datetime,
        when=format_deadline,
        d=format_date,
        cell=format_cell,
        num=format_number,
        pct=format_percent,
    )
    return env


# --- formatting, the way a Vietnamese official writes it -----------------------------------------


def format_datetime(moment: datetime | None) -> str:
    """'04/04/2025 09:35' in Vietnam time."""
    if moment is None:
        return "—"
    return moment.astimezone(TIMEZONE).strftime("%d/%m/%Y %H:%M")


def format_deadline(moment: datetime) -> str:
    """'10:00 Thứ Sáu, ngày 04/04/2025' in Vietnam time."""
    local = moment.astimezone(TIMEZONE)
    w = Wording("mail")
    return w(
        "deadline",
        time=f"{local:%H:%M}",
        weekday=w.raw("weekdays")[local.weekday()],
        date=f"{local:%d/%m/%Y}",
    )


def format_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def format_cell(value: object, limit: int = MAX_CELL_CHARS) -> str:
    """A table cell on one line: '—' for no value, '(trống)' for an empty one, long text clipped."""
    if value is None:
        return "—"
    text = " ".join(str(value).split())
    if not text:
        return Wording("mail")("blank_cell")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def format_number(value: int) -> str:
    """Vietnamese groups thousands with a dot: 1.234."""
    return f"{value:,}".replace(",", ".")


def format_percent(ratio: float | None) -> str:
    """Vietnamese decimal comma: 0.925 -> '92,5%'."""
    if ratio is None:
        return "—"
    return f"{ratio * 100:.1f}".replace(".", ",") + "%"


def _require_aware(**moments: datetime | None) -> None:
    # A naive time would be shown as if it were Vietnam time, silently off by the server's zone.
    for name, moment in moments.items():
        if moment is not None and moment.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware")


def _nfc(value: str) -> str:
    # Values typed on different keyboards arrive as NFC or NFD; mail clients render NFD badly.
    return unicodedata.normalize("NFC", value)
