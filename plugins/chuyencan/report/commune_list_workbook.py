"""The commune verification list as a workbook (chuyencan.report.commune_lists decides who is
on it): the children grouped by village with the fill-in columns, dropdowns and hidden case
key; the per-village counts; the hidden choices and meta sheets (the layout:
chuyencan.report.verification_sheet). `stable_bytes` fixes the bytes by the content, so a
rerun delivers nothing new.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from chuyencan.core.contract import OPEN_STATUSES, REASON_LABELS, SEX_LABELS, STATUS_LABELS
from chuyencan.core.organisation import AdminUnit
from chuyencan.core.safe_cells import CellValue
from chuyencan.core.sheet_style import (
    CENTER,
    DATE_FORMAT,
    HEADER_FILL,
    LEFT,
    OVERFLOW,
    RIGHT,
    TOTAL_FILL,
    confidential_heading,
    fit_rows,
    font,
    header_row,
    page_setup,
    put,
    widths,
)
from chuyencan.core.text import fold, strip_diacritics
from chuyencan.report.lists import VERDICT_LABELS, reason_labels
from chuyencan.report.verification_sheet import (
    COLUMN_NUMBER,
    COLUMNS,
    FORMAT,
    HEADER_ROW,
    SHEET_CHOICES,
    SHEET_LIST,
    SHEET_META,
    SHEET_VILLAGES,
    W,
    choices,
)
from chuyencan.report.wording import words

FILL_IN = PatternFill("solid", fgColor="FFF2CC")  # the columns the commune fills in
VILLAGE_FILL = PatternFill("solid", fgColor="E2EFDA")
KNOWN_VERDICTS = ("left_locality", "in_locality", "deceased")
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


@dataclass(frozen=True)
class Case:
    """One child on a commune's list (personal: restricted, never logged)."""

    student_key: str
    school_code: str
    village: str
    full_name: str
    birth_date: date | None
    sex: str
    parent_name: str | None
    class_name: str
    grade: int
    status: str
    first_day_missed: date | None
    reason_code: str | None
    reason_text: str | None
    destination: str | None
    verdict: str | None
    police_destination: str | None
    police_workplace: str | None
    risk_reasons: str | None

    def unknowns(self) -> list[str]:
        """What the commune still has to find out about the child."""
        out = []
        if self.verdict not in KNOWN_VERDICTS:
            out.append("presence")
        if self.status == "bo_hoc":
            if self.reason_code in (None, "khac") and not self.reason_text:
                out.append("cause")
            if not (self.destination or self.police_destination):
                out.append("destination")
            if not (self.police_workplace or self.destination):
                out.append("workplace")
        return out


@dataclass(frozen=True)
class CommuneList:
    commune: AdminUnit
    cases: tuple[Case, ...]

    @property
    def code(self) -> str:
        return self.commune.code


# What schools write before a village's name, or leave out: "Thôn Bản Chải" is "Bản Chải".
_VILLAGE_PREFIXES = ("thon", "xom", "to")


def village_key(name: str) -> str:
    """Grouping key of a village as schools write it: folded, without "thôn", "xóm", "tổ"."""
    words = strip_diacritics(name).lower().split()
    if len(words) > 1 and words[0] in _VILLAGE_PREFIXES:
        words = words[1:]
    return fold(" ".join(words))


def village_label(name: str) -> str:
    """A village's name without the "Thôn" the heading adds ("Thôn Bản Chải" -> "Bản Chải")."""
    first, _, rest = name.strip().partition(" ")
    return rest.strip() if rest and fold(first) in _VILLAGE_PREFIXES else name.strip()


def stable_bytes(wb: Workbook, report_date: date) -> bytes:
    """The workbook's bytes, the same for the same content: its times are the report date's,
    not the clock's, so a rerun delivers nothing new (chuyencan.core.delivery compares hashes)."""
    stamp = datetime(report_date.year, report_date.month, report_date.day)
    wb.properties.created = wb.properties.modified = stamp
    raw = io.BytesIO()
    wb.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            member.compress_type = zipfile.ZIP_DEFLATED
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save's time
                data = _MODIFIED.sub(
                    rb"\g<1>" + stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>", data
                )
            dst.writestr(member, data)
    return out.getvalue()


# --- the workbook -------------------------------------------------------------------------------


def workbook(commune_list: CommuneList, report_date: date, school_names: dict[str, str]) -> Workbook:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET_LIST
    label = commune_list.commune.label
    _list_sheet(ws, commune_list, report_date, school_names)
    _village_sheet(wb.create_sheet(SHEET_VILLAGES), commune_list)
    _choices_sheet(wb.create_sheet(SHEET_CHOICES))
    _meta_sheet(wb.create_sheet(SHEET_META), commune_list, report_date)
    wb.properties.title = W("document_title", commune=label, date=f"{report_date:%d/%m/%Y}")
    wb.properties.keywords = "restricted"
    return wb


def _status_text(case: Case) -> str:
    text = STATUS_LABELS.get(case.status, case.status)
    if case.risk_reasons and case.status != "bo_hoc":
        text += "; " + W("at_risk_reasons", reasons="; ".join(reason_labels(case.risk_reasons.split(","))))
    return text


def _reason_text(case: Case) -> str:
    if case.reason_code and case.reason_code != "khac":
        return REASON_LABELS.get(case.reason_code, case.reason_code)
    return case.reason_text or (W("reasons_other") if case.reason_code else "")


def _verdict_text(case: Case) -> str:
    return VERDICT_LABELS.get(case.verdict or "", words("lists.unverified"))


def _list_sheet(
    ws: Worksheet, commune_list: CommuneList, report_date: date, school_names: dict[str, str]
) -> None:
    cases = commune_list.cases
    label = commune_list.commune.label
    widths(ws, [c.width for c in COLUMNS])
    counts = Counter(c.status for c in cases)
    villages = {village_key(c.village) for c in cases}
    summary = (
        W(
            "heading.summary",
            total=len(cases),
            dropouts=counts["bo_hoc"],
            absent=counts["vang_dai_ngay"],
            at_risk=len(cases) - counts["bo_hoc"] - counts["vang_dai_ngay"],
            villages=len(villages),
        )
        if cases
        else W("heading.empty")
    )
    confidential_heading(
        ws,
        2,
        holder=W("heading.office", commune_upper=label.upper()),
        confidential=W("heading.confidential"),
        title=W("heading.title"),
        as_of=W("heading.as_of", date=f"{report_date:%d/%m/%Y}"),
        summary=summary,
    )
    put(ws, 6, 2, W("heading.instructions"), style=font(11, italic=True), align=OVERFLOW)
    first_fill = min(i for i, c in enumerate(COLUMNS, start=1) if c.fill)
    put(ws, HEADER_ROW - 1, first_fill, W("fill_group"), style=font(11, bold=True), align=OVERFLOW)
    header_row(ws, HEADER_ROW, [c.header for c in COLUMNS])
    for i, c in enumerate(COLUMNS, start=1):
        if c.fill:
            ws.cell(HEADER_ROW, i).fill = FILL_IN
    row = HEADER_ROW + 1
    number = 0
    by_village: dict[str, list[Case]] = defaultdict(list)
    for case in cases:
        by_village[village_key(case.village)].append(case)
    for members in by_village.values():
        name = village_label(members[0].village) or W("heading.no_village")
        put(
            ws,
            row,
            2,
            W("heading.village_row", village=name, count=len(members)),
            style=font(12, bold=True),
            align=OVERFLOW,
            fill=VILLAGE_FILL,
        )
        row += 1
        for case in members:
            number += 1
            _case_row(ws, row, number, case, school_names)
            row += 1
    last = max(row - 1, HEADER_ROW + 1)
    _validations(ws, HEADER_ROW + 1, last + 50)
    ws.column_dimensions["A"].hidden = True
    fit_rows(ws, HEADER_ROW + 1, row - 1)
    page_setup(ws, f"{HEADER_ROW}:{HEADER_ROW}", freeze=f"E{HEADER_ROW + 1}")


def _case_row(ws: Worksheet, row: int, number: int, case: Case, school_names: dict[str, str]) -> None:
    unknown = case.unknowns()
    values: dict[str, Any] = {
        "case_key": case.student_key,
        "number": number,
        "village": case.village,
        "full_name": case.full_name,
        "birth_date": case.birth_date,
        "sex": SEX_LABELS.get(case.sex, case.sex),
        "parent_name": case.parent_name,
        "school": school_names.get(case.school_code, case.school_code),
        "class_name": case.class_name,
        "status": _status_text(case),
        "first_day_missed": case.first_day_missed,
        "school_reason": _reason_text(case),
        "police_verdict": _verdict_text(case),
        "unknown": "; ".join(W(f"unknowns.{u}") for u in unknown) or W("nothing_unknown"),
    }
    for i, c in enumerate(COLUMNS, start=1):
        value = values.get(c.key)
        fill = FILL_IN if c.fill else None
        if c.key in ("birth_date", "first_day_missed", "visited_on"):
            put(ws, row, i, value, align=CENTER, fmt=DATE_FORMAT, border=True, fill=fill)
        elif c.key == "number":
            put(ws, row, i, value, align=RIGHT, border=True)
        else:
            put(ws, row, i, value, align=LEFT, border=True, fill=fill)


def _validations(ws: Worksheet, first: int, last: int) -> None:
    """Dropdowns on the fill-in columns from the Danh mục sheet; a date check on the date."""
    for n, (key, labels) in enumerate(choices(), start=1):
        letter = get_column_letter(n)
        source = f"{quote_sheetname(SHEET_CHOICES)}!${letter}$2:${letter}${len(labels) + 1}"
        dv = DataValidation(
            type="list",
            formula1=source,
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=W("validation.list_title"),
            error=W("validation.list_error"),
        )
        col = get_column_letter(COLUMN_NUMBER[key])
        dv.add(f"{col}{first}:{col}{last}")
        ws.add_data_validation(dv)
    dates = DataValidation(
        type="date",
        operator="greaterThan",
        formula1="36526",  # 01/01/2000
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=W("validation.date_title"),
        error=W("validation.date_error"),
    )
    col = get_column_letter(COLUMN_NUMBER["visited_on"])
    dates.add(f"{col}{first}:{col}{last}")
    ws.add_data_validation(dates)


def _village_sheet(ws: Worksheet, commune_list: CommuneList) -> None:
    spec = W.raw("villages.columns")
    keys = ("number", "village", "bo_hoc", "vang_dai_ngay", "nguy_co", "total", "target", "note")
    widths(ws, [6, 22, 10, 12, 14, 10, 16, 24])
    put(
        ws,
        1,
        1,
        W("villages.title", commune_upper=commune_list.commune.label.upper()),
        style=font(13, bold=True),
        align=OVERFLOW,
    )
    put(ws, 2, 1, W("villages.note"), style=font(11, italic=True), align=OVERFLOW)
    header_row(ws, 4, [spec[k] for k in keys])
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    names: dict[str, str] = {}
    for case in commune_list.cases:
        key = village_key(case.village)
        names.setdefault(key, village_label(case.village) or W("heading.no_village"))
        # A child only the early warning flagged (on the list as something else) is at risk.
        counts[key][case.status if case.status in OPEN_STATUSES else "nguy_co"] += 1
    row = 5
    totals: Counter[str] = Counter()
    for n, key in enumerate(sorted(counts, key=lambda k: fold(names[k])), start=1):
        c = counts[key]
        values: list[CellValue] = [
            n,
            names[key],
            c["bo_hoc"],
            c["vang_dai_ngay"],
            c["nguy_co"],
            sum(c.values()),
            None,
            None,
        ]
        totals.update(c)
        for col, value in enumerate(values, start=1):
            put(
                ws,
                row,
                col,
                value,
                align=RIGHT if isinstance(value, int) else LEFT,
                border=True,
                fill=FILL_IN if col == 7 else None,
            )
        row += 1
    total_values = [
        None,
        W("villages.total_row"),
        totals["bo_hoc"],
        totals["vang_dai_ngay"],
        totals["nguy_co"],
        sum(totals.values()),
        None,
        None,
    ]
    for col, value in enumerate(total_values, start=1):
        put(
            ws,
            row,
            col,
            value,
            style=font(12, bold=True),
            align=RIGHT if isinstance(value, int) else LEFT,
            border=True,
            fill=TOTAL_FILL,
        )
    page_setup(ws, "4:4", freeze="C5")


def _choices_sheet(ws: Worksheet) -> None:
    for n, (key, labels) in enumerate(choices(), start=1):
        put(ws, 1, n, W(f"columns.{key}"), style=font(12, bold=True), fill=HEADER_FILL)
        for i, label in enumerate(labels.values(), start=2):
            put(ws, i, n, label)
    ws.sheet_state = "hidden"


def _meta_sheet(ws: Worksheet, commune_list: CommuneList, report_date: date) -> None:
    values = {
        "commune_code": commune_list.code,
        "commune": commune_list.commune.label,
        "list_date": report_date.isoformat(),
        "format": FORMAT,
    }
    for i, (key, value) in enumerate(values.items(), start=1):
        put(ws, i, 1, W(f"meta.{key}"))
        put(ws, i, 2, value)
        put(ws, i, 3, key)
    ws.sheet_state = "hidden"
