"""The report's twin for a browser or a mail body: Markdown and HTML (inline styles), Vietnamese.

The same tables as the Excel report, from the same `ReportContent`. Values are formatted
here, once, the Vietnamese way (1.234 and 92,5%); the templates in include/templates/report
only lay them out. They share the mail templates' filters and macros: the loader looks in
include/templates/report first, then include/templates/email.

Nothing in the twin depends on when it was built, so the same data gives the same bytes:
the district email's dedup key is a digest of the Markdown.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from jinja2 import Environment, FileSystemLoader

from chuyencan.core.mail import render as mail_render
from chuyencan.report.content import (
    BREAKDOWN_TITLE,
    COMPLETENESS_TITLE,
    REPORT_TEMPLATE_DIR,
    STATUS_LABELS,
    SUPPRESSED_TEXT,
    TREND_TITLE,
    Figures,
    ReportContent,
    ScopeTable,
    breakdown_tables,
    change,
    figure,
    hidden,
    official_date,
    share,
    status_text,
    summary_lines,
    units_table,
)
from chuyencan.report.content import scope_tables as content_scope_tables
from chuyencan.report.wording import say, words

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")


@dataclass(frozen=True)
class Twin:
    markdown: str
    html: str
    text: str = ""  # plain text (a mail's text part): no Markdown marks


@dataclass(frozen=True)
class Table:
    """A table laid out for a template: header groups, column headers, formatted rows."""

    title: str
    key_headers: tuple[str, ...]
    groups: tuple[tuple[str | None, int], ...]  # (label spanning n metric columns, n); None: none
    headers: tuple[str, ...]  # every column, keys included
    rows: tuple[tuple[str, ...], ...]
    total: tuple[str, ...] | None
    numeric_from: int  # first column index holding numbers
    note: str | None = None
    bold_rows: frozenset[int] = frozenset()  # section headings

    @property
    def flat_headers(self) -> tuple[str, ...]:
        """One header row (Markdown has no spans): 'group: column' under a group."""
        out = list(self.headers[: len(self.key_headers)])
        i = len(out)
        for label, n in self.groups or ((None, len(self.headers) - i),):
            out.extend(f"{label}: {h}" if label else h for h in self.headers[i : i + n])
            i += n
        return tuple(out)


def render_twin(content: ReportContent, *, suppress_small: bool = False) -> Twin:
    """The whole report. `suppress_small` shows student counts of 1-4 as "<5" (public use)."""
    return _render("fortnightly", content, suppress_small)


def render_summary(content: ReportContent, *, suppress_small: bool = False) -> Twin:
    """The unit's totals by level only: the part of the report a mail body can carry."""
    twin = _render("_summary", content, suppress_small)
    return Twin(twin.markdown, twin.html, plain_summary(summary_table(content, suppress_small)))


def _render(name: str, content: ReportContent, suppress: bool) -> Twin:
    env = _environment()
    issuer = content.unit.letterhead  # the unit's lines (include/reference/reporting_units.json)
    rollup = units_table(content)
    variables = {
        "c": content,
        "issuer": issuer,
        "date_line": official_date(issuer.place, content.report_date),
        "summary": summary_table(content, suppress),
        "tables": (
            *((_scope_table(rollup, content, suppress),) if rollup is not None else ()),
            *scope_tables(content, suppress),
        ),
        "completeness": completeness_table(content),
        "trend": trend_table(content),
        "breakdowns": breakdown_section(content),
        "breakdown_title": BREAKDOWN_TITLE,
        "breakdown_note": say("breakdown_note"),
        "suppressed": suppress,
    }
    md = env.get_template(f"{name}.md.j2").render(**variables)
    html = env.get_template(f"{name}.html.j2").render(**variables)
    return Twin(markdown=_nfc(_tidy(md)), html=_nfc(html))


@lru_cache(maxsize=1)
def _environment() -> Environment:
    base = mail_render.environment(mail_render.TEMPLATE_DIR)
    env = base.overlay(
        loader=FileSystemLoader([str(REPORT_TEMPLATE_DIR), str(mail_render.TEMPLATE_DIR)], encoding="utf-8")
    )
    # An overlay shares its parent's filter dict; give it its own before adding to it.
    env.filters = {**base.filters, "md": md_escape}
    return env


# --- formatting ---------------------------------------------------------------------------------


def fmt(field: str, value: int | float | None, kind: str, suppress: bool) -> str:
    if hidden(field, value, suppress):
        return SUPPRESSED_TEXT
    if value is None:
        return "—"
    if kind == "rate":
        return mail_render.format_percent(float(value))
    return mail_render.format_number(int(value))


def md_escape(value: object) -> str:
    """Text for a Markdown table cell: one line, Markdown's special characters escaped."""
    text = " ".join(str(value).split())
    return _MD_SPECIAL.sub(r"\\\1", text)


# --- tables -------------------------------------------------------------------------------------


def signed(value: int | float | None, kind: str) -> str:
    """'+3', '-1', '0', '+0,4%': a change since the last report."""
    if value is None:
        return "—"
    if kind == "rate":
        text = mail_render.format_percent(abs(float(value)))
        return text if round(float(value), 3) == 0 else ("+" if value > 0 else "-") + text
    return f"{'+' if value > 0 else ''}{mail_render.format_number(int(value))}"


def summary_table(content: ReportContent, suppress: bool) -> Table:
    levels = content.levels
    rows: list[tuple[str, ...]] = []
    bold: set[int] = set()
    for line in summary_lines(content.max_sessions):
        text = ("– " if line.indent else "") + line.text
        if line.kind == "heading" or line.number.isalpha():
            bold.add(len(rows))
        if line.kind == "heading" or line.field is None:
            rows.append((line.number, text, "", "", "", "", *("" for _ in levels)))
            continue
        kind = "rate" if line.kind == "rate" else "count"
        value = figure(content.district.figures, line.field)
        ratio = share(content.district.figures, line)
        before, delta = change(content, line)
        small = hidden(line.field, value, suppress) or hidden(line.field, before, suppress)
        rows.append(
            (
                line.number,
                text,
                fmt(line.field, value, kind, suppress),
                "" if ratio is None or hidden(line.field, value, suppress) else fmt("", ratio, "rate", False),
                fmt(line.field, before, kind, suppress),
                "" if small else signed(delta, kind),
                *(fmt(line.field, figure(level.figures, line.field), kind, suppress) for level in levels),
            )
        )
    h = words("summary_headers")
    headers = (
        h["number"],
        h["content"],
        content.total_label,
        h["share"],
        say("summary_headers.previous", date=f"{content.previous_date:%d/%m/%Y}"),
        h["change"],
        *(say("level_column", level=r.key) for r in levels),
    )
    return Table(
        title=content.total_label,
        key_headers=headers[:2],
        groups=(),
        headers=headers,
        rows=tuple(rows),
        total=None,
        numeric_from=2,
        bold_rows=frozenset(bold),
    )


def scope_tables(content: ReportContent, suppress: bool) -> tuple[Table, ...]:
    return tuple(_scope_table(spec, content, suppress) for spec in content_scope_tables(content))


def _scope_table(spec: ScopeTable, content: ReportContent, suppress: bool) -> Table:
    def values(figures: Figures) -> tuple[str, ...]:
        return tuple(fmt(m.field, figure(figures, m.field), m.kind, suppress) for m in spec.metrics)

    groups: list[tuple[str | None, int]] = []
    for metric in spec.metrics:
        if groups and metric.group is not None and groups[-1][0] == metric.group:
            groups[-1] = (metric.group, groups[-1][1] + 1)
        else:
            groups.append((metric.group, 1))
    pad = ("",) * (len(spec.keys) - 1)
    return Table(
        title=spec.title,
        key_headers=("STT", *spec.keys),
        groups=tuple(groups),
        headers=("STT", *spec.keys, *(m.header for m in spec.metrics)),
        rows=tuple((str(i), *labels, *values(f)) for i, (labels, f) in enumerate(spec.rows, start=1)),
        total=("", content.total_label, *pad, *values(content.district.figures)),
        numeric_from=1 + len(spec.keys),
        note=spec.note,
    )


def breakdown_section(content: ReportContent) -> tuple[Table, ...]:
    """Biểu 6: one table per breakdown dimension, the district then levels then communes."""
    number = say("summary_headers.number")
    scope = say("breakdown_scope")
    out = []
    for t in breakdown_tables(content):
        rows = tuple(
            (
                "" if i == 0 else str(i),
                r.label,
                *(fmt(t.dimension, v, "count", False) for v in t.values(r)),
            )
            for i, r in enumerate(t.rows)
        )
        out.append(
            Table(
                title=t.title,
                key_headers=(number, scope),
                groups=(),
                headers=(number, scope, *t.headers),
                rows=rows,
                total=None,
                numeric_from=2,
                bold_rows=frozenset({0}),
            )
        )
    return tuple(out)


def plain_summary(table: Table) -> str:
    """The summary table as plain text lines for a mail's text part (no Markdown marks, no
    wide columns that a mail client would wrap): one line per figure,
    '6. Tổng số học sinh bỏ học chưa trở lại: 169 (Kỳ trước (21/03/2025): 164; +5) – Cấp TH: 0, …'."""
    number, text, value, ratio, before, delta, *levels = range(len(table.headers))
    lines: list[str] = []
    for row in table.rows:
        label = f"{row[number]}. {row[text]}" if row[number] else f"   {row[text]}"
        if not row[value]:
            lines.append(("" if not lines else "\n") + label.upper() if row[number].isalpha() else label)
            continue
        shown = row[value] + (f" ({row[ratio]})" if row[ratio] else "")
        change = f"{table.headers[before]}: {row[before]}; {row[delta]}" if row[before] != "—" else ""
        split = ", ".join(f"{table.headers[i]}: {row[i]}" for i in levels)
        lines.append(
            f"{label}: {shown}" + (f" ({change})" if change else "") + (f" – {split}" if split else "")
        )
    return "\n".join(lines)


def completeness_table(content: ReportContent) -> Table:
    d = content.district.figures
    rows = tuple(
        (
            str(i),
            s.school_code,
            s.school_name,
            s.commune or "",
            *(status_text(w.status, w.received_at, w.error_count) for w in s.weeks),
            *(str(s.count(status)) for status in ("on_time", "late", "missing", "rejected")),
        )
        for i, s in enumerate(content.completeness, start=1)
    )
    week_headers = tuple(say("completeness.week", date=f"{w:%d/%m/%Y}") for w in content.weeks)
    counts = (d.submissions_on_time, d.submissions_late, d.submissions_missing, d.submissions_rejected)
    keys = (
        say("summary_headers.number"),
        *(content.say(f"scope_tables.{k}") for k in ("school_code", "school_name", "commune_key")),
    )
    return Table(
        title=COMPLETENESS_TITLE,
        key_headers=keys,
        groups=(),
        headers=(
            *keys,
            *week_headers,
            *(STATUS_LABELS[s] for s in ("on_time", "late", "missing", "rejected")),
        ),
        rows=rows,
        total=(
            "",
            content.say("completeness.total"),
            "",
            "",
            *("" for _ in week_headers),
            *(str(n) for n in counts),
        ),
        numeric_from=4 + len(week_headers),
    )


def trend_table(content: ReportContent) -> Table:
    rows = tuple(
        (
            f"{p.week_ending:%d/%m/%Y}",
            fmt("attendance_rate", p.attendance_rate, "rate", False),
            fmt("dropouts_open", p.dropouts_open, "count", False),
        )
        for p in content.trend
    )
    chart = words("chart")
    return Table(
        title=TREND_TITLE,
        key_headers=(chart["week_ending"],),
        groups=(),
        headers=(chart["week_ending"], chart["attendance_rate"], chart["dropouts_open"]),
        rows=rows,
        total=None,
        numeric_from=1,
    )


_BLANK_RUNS = re.compile(r"\n{3,}")


def _tidy(text: str) -> str:
    return _BLANK_RUNS.sub("\n\n", text).strip() + "\n"


def _nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)
