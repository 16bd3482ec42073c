"""A problem found in a submitted file, and the Vietnamese words that tell the school about it.

Rule ids are the vocabulary shared by the reader (structure, cell types), the GX suites
(`meta.rule` of each expectation) and the message catalogue
`include/expectations/messages.vi.json`, which says in Vietnamese what is wrong and how to fix
it. A Vietnamese speaker can review every sentence a school will read in that one file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from chuyencan.core.contract import SHEETS
from chuyencan.core.messages import MASK, format_message, shorten
from chuyencan.core.settings import INCLUDE_DIR

Severity = Literal["error", "warning"]
MESSAGES_FILE = INCLUDE_DIR / "expectations" / "messages.vi.json"


@dataclass(frozen=True)
class Issue:
    severity: Severity
    rule: str
    sheet: str | None = None
    row: int | None = None  # the Excel row number, as the school sees it
    column: str | None = None  # the contract key, e.g. "si_so"
    value: str | None = None  # the cell as read; may be personal, see `public_value`
    class_name: str | None = None
    params: tuple[tuple[str, Any], ...] = ()  # extra values for the message, e.g. limits

    @property
    def is_personal(self) -> bool:
        for sheet in SHEETS:
            if sheet.name == self.sheet:
                return any(c.key == self.column and c.personal for c in sheet.columns)
        return False

    @property
    def public_value(self) -> str | None:
        """The value as it may appear in an email or error report: personal values masked."""
        if self.value is None:
            return None
        return MASK if self.is_personal else shorten(self.value)

    @property
    def header(self) -> str | None:
        """The Vietnamese header of the column, as in the template."""
        for sheet in SHEETS:
            if sheet.name == self.sheet:
                for col in sheet.columns:
                    if col.key == self.column:
                        return col.header
        return self.column

    def message(self) -> str:
        return format_message(messages()[self.rule]["message"], self)

    def fix(self) -> str:
        return format_message(messages()[self.rule]["fix"], self)

    def public_dict(self) -> dict[str, Any]:
        """Machine-readable form without personal values (quarantine reports, the outbox)."""
        out = asdict(self)
        out.pop("params")
        out.update(value=self.public_value, header=self.header, message=self.message(), fix=self.fix())
        out.update({k: str(v) for k, v in self.params})
        return out


@cache
def messages(path: Path = MESSAGES_FILE) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        catalogue: dict[str, dict[str, str]] = json.load(fh)
    return catalogue
