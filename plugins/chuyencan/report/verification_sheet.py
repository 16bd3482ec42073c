"""The commune verification workbook's layout: one definition for the writer
(chuyencan.report.commune_lists) and the reader of the returned copies
(chuyencan.report.verification_returns), so the two cannot drift apart.

The first sheet lists the children; its first column, hidden, holds each row's case key (the
pseudonymous `student_key` of the restricted tables, a hash: nothing a reader can turn back
into a child) so a returned row maps back to its case whatever the commune did to the order.
The hidden sheet `Thông tin tệp` names the commune and the list's date. The columns the
commune fills in carry dropdowns whose values come from the hidden sheet `Danh mục`.
Every word is from include/wording/verification.vi.json.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from chuyencan.core.contract import REASON_LABELS
from chuyencan.core.text import fold
from chuyencan.core.wording import Wording
from chuyencan.report.dimensions import WORKPLACES
from chuyencan.report.wording import words

W = Wording("verification")
FORMAT = "xac_minh_1"  # the layout's version, on the meta sheet

SHEET_LIST: str = W("sheet_list")
SHEET_VILLAGES: str = W("sheet_villages")
SHEET_CHOICES: str = W("sheet_choices")
SHEET_META: str = W("sheet_meta")
HEADER_ROW = 8  # rows above: the heading
MAX_ROWS = 20_000  # a commune's list is a few hundred rows; more is not our workbook


@dataclass(frozen=True)
class ListColumn:
    key: str
    width: float
    fill: bool = False  # filled in by the commune

    @property
    def header(self) -> str:
        return W(f"columns.{self.key}")


COLUMNS: tuple[ListColumn, ...] = (
    ListColumn("case_key", 10),
    ListColumn("number", 6),
    ListColumn("village", 16),
    ListColumn("full_name", 24),
    ListColumn("birth_date", 12),
    ListColumn("sex", 8),
    ListColumn("parent_name", 20),
    ListColumn("school", 24),
    ListColumn("class_name", 8),
    ListColumn("status", 28),
    ListColumn("first_day_missed", 12),
    ListColumn("school_reason", 20),
    ListColumn("police_verdict", 20),
    ListColumn("unknown", 22),
    ListColumn("presence", 20, fill=True),
    ListColumn("destination", 20, fill=True),
    ListColumn("workplace", 22, fill=True),
    ListColumn("cause", 16, fill=True),
    ListColumn("visited_on", 13, fill=True),
    ListColumn("note", 24, fill=True),
)
COLUMN_NUMBER = {c.key: i for i, c in enumerate(COLUMNS, start=1)}
# The fill-in columns that make a row a finding (a note alone is not one).
FINDING_KEYS = ("presence", "destination", "workplace", "cause", "visited_on")
META_KEYS = ("commune_code", "commune", "list_date", "format")


def presence_labels() -> dict[str, str]:
    return dict(W.raw("presence"))


def cause_labels() -> dict[str, str]:
    return dict(REASON_LABELS)


def workplace_labels() -> dict[str, str]:
    labels: dict[str, str] = words("breakdowns.workplace_kind")["categories"]
    return {code: labels[code] for code in WORKPLACES}


# Dropdown lists: (fill-in column, its labels by code), in the order of the Danh mục sheet.
def choices() -> tuple[tuple[str, dict[str, str]], ...]:
    return (("presence", presence_labels()), ("workplace", workplace_labels()), ("cause", cause_labels()))


@cache
def _lookup(kind: str) -> dict[str, str]:
    """Folded label or code -> code, for the values a commune may type or pick."""
    labels = dict(choices())[kind]
    out = {fold(code): code for code in labels}
    out.update({fold(label): code for code, label in labels.items()})
    if kind == "presence":
        # Short forms an officer types instead of picking.
        typed: dict[str, str] = W.raw("presence_typed")
        out.update({fold(form): code for form, code in typed.items() if not form.startswith("_")})
    return out


def code_of(kind: str, value: str) -> str | None:
    """The code of a picked or typed value of a dropdown column; None if it is not one."""
    return _lookup(kind).get(fold(value))
