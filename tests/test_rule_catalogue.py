"""Every rule a school can be told about has its Vietnamese words, and the rules document
matches what runs."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import rules_table  # noqa: E402 - a script, not a package


def _reader_rules() -> set[str]:
    source = (ROOT / "plugins" / "chuyencan" / "submissions" / "reader.py").read_text(encoding="utf-8")
    return (
        set(re.findall(r'Issue\(\s*"error",\s*"([a-z_0-9]+)"', source))
        | set(re.findall(r'CellError\("([a-z_0-9]+)"\)', source))
        | set(re.findall(r'"password_protected" if is_encrypted else "([a-z_]+)"', source))
    )


def test_every_rule_has_a_message_and_every_message_a_rule() -> None:
    messages = json.loads((rules_table.EXPECTATIONS / "messages.vi.json").read_text(encoding="utf-8"))
    suite_rules = {
        e["meta"]["rule"]
        for f in ("school_classes.json", "school_students.json")
        for e in json.loads((rules_table.EXPECTATIONS / f).read_text(encoding="utf-8"))["expectations"]
    }
    documented_reader_rules = {rule for _, rule in rules_table.READER_RULES}
    assert _reader_rules() <= documented_reader_rules | suite_rules
    assert set(messages) == suite_rules | documented_reader_rules
    for rule, words in messages.items():
        assert words["message"].strip(), rule
        assert words["fix"].strip(), rule


def test_rules_document_is_current() -> None:
    assert (ROOT / "docs" / "validation-rules.md").read_text(encoding="utf-8") == rules_table.render()
