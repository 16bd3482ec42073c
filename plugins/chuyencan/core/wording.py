"""The wording schools and officials read, kept as data: `include/wording/<name>.vi.json`.

Sentences, labels and titles of the spreadsheets and reports live in these catalogues, where
they are reviewed like the rule messages (`include/expectations/*.vi.json`) and the email
templates (`include/templates/email/`); Python only chooses and fills them. A text is a string
with `{fields}` (`str.format`), or a list of lines joined with line breaks. This is the one
module that reads the catalogues (tests/test_wording.py keeps Vietnamese out of other code).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from chuyencan.core.settings import INCLUDE_DIR

WORDING_DIR = INCLUDE_DIR / "wording"


@cache
def catalogue(name: str) -> dict[str, Any]:
    """The whole catalogue `name` (cached: catalogues ship with the code)."""
    entries: dict[str, Any] = json.loads((WORDING_DIR / f"{name}.vi.json").read_text(encoding="utf-8"))
    return entries


def text(value: str | list[str], /, **fields: object) -> str:
    """A catalogue text with its fields filled in."""
    joined = "\n".join(value) if isinstance(value, list) else value
    return joined.format(**fields)


class Wording:
    """One catalogue with the fields its texts share: `w("checks.whole.error")`."""

    def __init__(self, name: str, /, **fields: object) -> None:
        self.name = name
        self.entries = catalogue(name)
        self.fields = fields

    def raw(self, path: str) -> Any:
        """The entry at a dotted path, as stored."""
        entry: Any = self.entries
        for key in path.split("."):
            entry = entry[key]
        return entry

    def __call__(self, path: str, /, **fields: object) -> str:
        return self.fill(self.raw(path), **fields)

    def fill(self, value: str | list[str], /, **fields: object) -> str:
        """A text of this catalogue (e.g. an item of a list entry) with the fields filled in."""
        return text(value, **{**self.fields, **fields})

    def with_fields(self, **fields: object) -> Wording:
        """The same catalogue with more shared fields."""
        return Wording(self.name, **{**self.fields, **fields})


def severity_label(severity: str) -> str:
    """How a quarantine report tags an issue: the error label, or the warning label."""
    return Wording("quarantine_report")("severity.error" if severity == "error" else "severity.warning")
