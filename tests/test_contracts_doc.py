"""docs/contracts.md cannot go stale: every setting, Airflow variable, connection and DAG id the
code has is on the page, and every link into the page lands on one of its sections."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from chuyencan.core.settings import Settings
from scripts.integration import topology

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = ROOT / "docs" / "contracts.md"
TEXT = CONTRACTS.read_text(encoding="utf-8")
# Where the project's own text lives (not the virtualenv, caches or generated output).
SOURCES = ("dags", "plugins", "include", "docs", "scripts", "tests", "bench", "deploy", "devtools")
TOP_LEVEL = ("README.md", "docker-compose.yaml", ".env.example", "Dockerfile", "Makefile", "pyproject.toml")
SUFFIXES = {".py", ".md", ".j2", ".json", ".sql", ".yaml", ".yml", ".txt", ".toml", ".cfg", ".ini", ".sh"}


def anchor(heading: str) -> str:
    """The anchor GitHub (and most Markdown renderers) give a heading."""
    slug = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return slug.replace(" ", "-")


def section(number: int) -> str:
    match = re.search(rf"^## {number}\. .*?(?=^## |\Z)", TEXT, flags=re.MULTILINE | re.DOTALL)
    assert match, f"docs/contracts.md has no section {number}"
    return match.group(0)


def documented(name: str, text: str = TEXT) -> bool:
    return f"`{name}`" in text


def project_files() -> list[Path]:
    files = [ROOT / name for name in TOP_LEVEL if (ROOT / name).is_file()]
    for folder in SOURCES:
        files += [
            p
            for p in sorted((ROOT / folder).rglob("*"))
            if p.is_file() and p.suffix in SUFFIXES and "__pycache__" not in p.parts
        ]
    return files


def test_sections_have_the_anchors_the_project_links_to() -> None:
    headings = [anchor(h) for h in re.findall(r"^## (.+)$", TEXT, flags=re.MULTILINE)]
    assert headings[:6] == [
        "1-configuration",
        "2-dags",
        "3-school-weekly-submission",
        "4-police-extract",
        "5-warehouse",
        "6-reference-data",
    ]


def test_every_settings_field_is_documented() -> None:
    config = section(1)
    missing = [f.name for f in dataclasses.fields(Settings) if not documented(f.name, config)]
    assert missing == [], f"Settings fields missing from docs/contracts.md#1-configuration: {missing}"


def test_every_airflow_variable_and_connection_the_code_reads_is_documented() -> None:
    config = section(1)
    names = [*topology.pipeline_variables(), *topology.connection_variables()]
    assert "AIRFLOW_VAR_CHUYENCAN_INBOX" in names  # the scan finds what the adapter reads
    missing = [n for n in names if not documented(n, config)]
    assert missing == [], f"read by the code, missing from docs/contracts.md#1-configuration: {missing}"


def test_every_documented_variable_is_read_by_the_code() -> None:
    config = section(1)
    read = {*topology.pipeline_variables(), *topology.connection_variables()}
    listed = set(re.findall(r"`(AIRFLOW_(?:VAR|CONN)_[A-Z0-9_]+)`", config))
    assert listed - read == set(), "documented but read nowhere"


def test_every_dag_id_is_documented_with_its_schedule() -> None:
    dag_ids = re.findall(
        r"""dag_id\s*=\s*["'](\w+)["']""",
        "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "dags").glob("*.py"))),
    )
    assert len(dag_ids) >= 6
    rows = {m.group(1) for m in re.finditer(r"^\| `(\w+)` \|", section(2), flags=re.MULTILINE)}
    assert set(dag_ids) <= rows, f"DAG ids missing from docs/contracts.md#2-dags: {set(dag_ids) - rows}"
    assert rows <= set(dag_ids), f"documented DAGs that dags/ does not have: {rows - set(dag_ids)}"


def report_tables() -> dict[str, list[str]]:
    from chuyencan.core.schema import metadata

    return {
        name: [c.name for c in table.columns]
        for name, table in metadata.tables.items()
        if table.schema == "report"
    }


def test_every_report_table_and_column_is_documented() -> None:
    tables = report_tables()
    assert {"report.submission_status", "report.fortnight_summary"} <= set(tables)
    warehouse = section(5)
    missing = [
        f"{name}.{column}"
        for name, columns in tables.items()
        for column in [name, *columns]
        if not documented(column, warehouse)
    ]
    assert missing == [], f"missing from docs/contracts.md#5-warehouse: {missing}"


def test_links_into_the_contracts_land_on_a_section() -> None:
    anchors = {anchor(h) for h in re.findall(r"^#+ (.+)$", TEXT, flags=re.MULTILINE)}
    broken = []
    for path in project_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for target in re.findall(r"contracts\.md#([\w\-]+)", text):
            if target not in anchors:
                broken.append(f"{path.relative_to(ROOT)}: #{target}")
        for target in re.findall(r"\(#([\w\-]+)\)", text if path == CONTRACTS else ""):
            if target not in anchors:
                broken.append(f"docs/contracts.md: #{target}")
    assert broken == []


def test_nothing_points_at_a_specification_outside_the_repository() -> None:
    outside = re.compile("CONTRACTS" + r"(\.md)?\s*§|shared/" + "domain")
    found = [
        str(p.relative_to(ROOT))
        for p in project_files()
        if p != Path(__file__) and outside.search(p.read_text(encoding="utf-8", errors="replace"))
    ]
    assert found == [], "point at docs/contracts.md#<section> instead"
