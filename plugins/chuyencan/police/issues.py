"""A problem found in a police extract, and the Vietnamese words that tell the district about it.

Same pattern as the schools' issues (`chuyencan.submissions.issues`): rule ids shared by the
reader, the GX suite (`include/expectations/police_extract.json`, `meta.rule`) and the message
catalogue `include/expectations/police_messages.vi.json`. Values of personal columns are never
shown: only the row, the column and the rule.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from chuyencan.core.messages import MASK, format_message, shorten
from chuyencan.core.settings import INCLUDE_DIR
from chuyencan.police.extract_contract import COLUMN_BY_KEY, PERSONAL_KEYS
from chuyencan.submissions.issues import Issue

MESSAGES_FILE = INCLUDE_DIR / "expectations" / "police_messages.vi.json"
# Reading problems that mean the file as a whole could not be read.
UNREADABLE_RULES = frozenset(
    {
        "empty_file",
        "not_utf8",
        "not_extract",
        "xls_format",
        "password_protected",
        "corrupt_file",
        "too_large",
        "macro_file",
        "not_xlsx",
        "file_too_large",
        "unreadable_file",
        "unreadable_folder",
        "link_outside_inbox",
        "not_a_file",
        "reader_failed",
        "sheet_too_big",
        "malformed_csv",
        "repeated_header",
        "header_not_found",
        "missing_column",
        "duplicate_column",
        "no_rows",
        "too_many_rows",
    }
)


@dataclass(frozen=True)
class ExtractIssue(Issue):
    """An Issue about a police extract: `sheet` is unused, `column` is a key of
    docs/contracts.md#4-police-extract."""

    @property
    def is_personal(self) -> bool:
        return self.column in PERSONAL_KEYS

    @property
    def public_value(self) -> str | None:
        if self.value is None:
            return None
        return MASK if self.is_personal else shorten(self.value)

    @property
    def header(self) -> str | None:
        column = COLUMN_BY_KEY.get(self.column or "")
        return column.header if column else self.column

    def message(self) -> str:
        return format_message(police_messages()[self.rule]["message"], self)

    def fix(self) -> str:
        return format_message(police_messages()[self.rule]["fix"], self)

    @classmethod
    def of(cls, issue: Issue) -> ExtractIssue:
        """The police form of an issue raised by shared reading code."""
        return cls(issue.severity, issue.rule, None, issue.row, issue.column, issue.value, None, issue.params)


@cache
def police_messages(path: Path = MESSAGES_FILE) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        catalogue: dict[str, dict[str, str]] = json.load(fh)
    return catalogue
