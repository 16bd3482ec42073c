"""The fortnightly report's Vietnamese wording, kept as data in
include/templates/report/wording.vi.json and read once.

    say("summary.not_eligible", max_sessions=45)  # 'Không đủ điều kiện lên lớp (...45 buổi)'
    words("levels")                               # {'TH': 'Tiểu học', ...}
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from chuyencan.core.settings import INCLUDE_DIR

WORDING_FILE = INCLUDE_DIR / "templates" / "report" / "wording.vi.json"


@cache
def _catalogue() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(WORDING_FILE.read_text(encoding="utf-8"))
    return data


def words(key: str) -> Any:
    """The entry at a dotted key: a text, a list or a mapping."""
    value: Any = _catalogue()
    for part in key.split("."):
        try:
            value = value[part]
        except (KeyError, TypeError):
            raise KeyError(f"{WORDING_FILE.name} has no entry {key!r}") from None
    return value


def say(key: str, **values: object) -> str:
    """A text of the catalogue with its {placeholders} filled."""
    text = words(key)
    if not isinstance(text, str):
        raise TypeError(f"{WORDING_FILE.name}: {key!r} is not a text")
    return text.format(**values) if values else text
