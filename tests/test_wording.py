"""Every fact has one home: the wording schools and officials read lives in catalogues under
`include/wording/` (not in Python), and the time zone, the deadline and the report times are
written once, in `chuyencan.core.settings`.

These read the shipped code (plugins/ and dags/; not devtools/, whose sample generator makes up
Vietnamese names and places) the way a reviewer would; they fail with the file, line and text
that broke the rule.
"""

from __future__ import annotations

import ast
import json
import re
import unicodedata
from datetime import time
from pathlib import Path

import pytest

from chuyencan.core import wording
from chuyencan.core.settings import DEADLINE, REPORT_DEADLINE, REPORT_TIME, TIMEZONE_NAME

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted([*(ROOT / "plugins").rglob("*.py"), *(ROOT / "dags").glob("*.py")])
# Letters only Vietnamese uses (Latin letters with a Vietnamese diacritic, and đ).
VIETNAMESE = re.compile(
    "[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]", re.IGNORECASE
)

# Python files that may hold Vietnamese strings, and why.
ALLOWED = {
    # The loader itself: its docstrings name what the catalogues hold.
    "plugins/chuyencan/core/wording.py": "the catalogue loader",
    # Vocabulary, not sentences: the contract's sheet and column headers and its status, sex,
    # reason and residence labels are the interface the readers match files against
    # (docs/contracts.md#3-school-weekly-submission, #4-police-extract). A catalogue would let an edit of wording break reading.
    "plugins/chuyencan/core/contract.py": "contract vocabulary (docs/contracts.md#3-school-weekly-submission)",
    "plugins/chuyencan/police/extract_contract.py": "contract vocabulary (docs/contracts.md#4-police-extract)",
    # The kinds of administrative unit (tỉnh, xã, …): names are read and matched with them.
    "plugins/chuyencan/core/organisation.py": "administrative vocabulary (issue 12)",
    # The commune scope key of what has no known commune: a value in report tables, not a sentence.
    "plugins/chuyencan/report/dimensions.py": "warehouse vocabulary (docs/contracts.md#5-warehouse)",
    # The project's name as the Airflow UI's menu entry (the operators' page), a name, not wording.
    "plugins/chuyencan_operations.py": "the menu entry's name",
    # Folding đ/Đ to d is character handling, not wording.
    "plugins/chuyencan/core/text.py": "diacritic folding",
}


def _documentation(tree: ast.Module) -> set[int]:
    """ids of docstrings and DAG `DOC` texts: English documentation may quote a Vietnamese term."""
    docs: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            docs.add(id(body[0].value))
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "DOC" for t in node.targets
        ):
            docs.update(id(n) for n in ast.walk(node.value))
    return docs


def vietnamese_literals(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = _documentation(tree)
    return [
        f"{path.relative_to(root)}:{node.lineno}: {node.value[:60]!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docs
        and VIETNAMESE.search(node.value)
    ]


def test_no_vietnamese_wording_in_python_outside_the_catalogues() -> None:
    found = [
        hit
        for path in SHIPPED
        if str(path.relative_to(ROOT)) not in ALLOWED
        for hit in vietnamese_literals(path)
    ]
    assert found == [], "move these to include/wording/ (chuyencan.core.wording):\n" + "\n".join(found)


def test_the_check_finds_wording_in_code(tmp_path: Path) -> None:
    """The scan is not blind: a sentence in code is found, a docstring quoting one is not."""
    (tmp_path / "x.py").write_text(
        '"""Quotes \'Thời hạn gửi\'."""\nDOC = "báo cáo"\nLABEL = "Tệp: {path}"\n', encoding="utf-8"
    )
    hits = [h.split(": ", 1)[1] for h in vietnamese_literals(tmp_path / "x.py", tmp_path)]
    assert hits == ["'Tệp: {path}'"]


def test_the_allowlist_names_files_that_exist() -> None:
    for rel in ALLOWED:
        assert (ROOT / rel).is_file(), rel


CATALOGUES = sorted(wording.WORDING_DIR.glob("*.vi.json"))


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.name)
def test_catalogues_are_composed_unicode_and_used(path: Path) -> None:
    """Decomposed diacritics look right but match nothing the readers fold; a catalogue no code
    loads is wording nobody reads."""

    def strings(value: object) -> list[str]:
        if isinstance(value, str):
            return [value]
        if isinstance(value, dict):
            return [s for k, v in value.items() for s in (k, *strings(v))]
        if isinstance(value, list):
            return [s for v in value for s in strings(v)]
        return []

    for s in strings(json.loads(path.read_text(encoding="utf-8"))):
        assert unicodedata.is_normalized("NFC", s), s
    name = path.name.removesuffix(".vi.json")
    users = [p for p in SHIPPED if re.search(rf"""(catalogue|Wording)\("{name}"[,)]""", p.read_text("utf-8"))]
    assert users, f"no code reads {path.name}"


# -- one home for each time ---------------------------------------------------------------------


def _written_outside_settings(moment: time | None, text: str) -> list[str]:
    """Places in shipped code, but settings, that write `text` in a string (not a comment or
    docstring) or build `moment` with a `time(…)` call."""
    out = []
    for path in SHIPPED:
        rel = str(path.relative_to(ROOT))
        if rel == "plugins/chuyencan/core/settings.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = _documentation(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
                if text in node.value:
                    out.append(f"{rel}:{node.lineno}: {node.value[:60]!r}")
            elif (
                moment is not None
                and isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "time"
                and node.args
                and all(isinstance(a, ast.Constant) and isinstance(a.value, int) for a in node.args)
                and time(*(a.value for a in node.args)) == moment  # type: ignore[misc]
            ):
                out.append(f"{rel}:{node.lineno}: {ast.unparse(node)}")
    return out


def test_the_time_zone_is_named_only_in_settings() -> None:
    assert _written_outside_settings(None, TIMEZONE_NAME) == []


@pytest.mark.parametrize(
    "moment", [DEADLINE, REPORT_TIME, REPORT_DEADLINE], ids=["deadline", "report_time", "report_deadline"]
)
def test_each_time_is_written_only_in_settings(moment: time) -> None:
    assert _written_outside_settings(moment, f"{moment:%H:%M}") == []
