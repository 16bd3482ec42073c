"""docs/architecture.md's layer diagram agrees with the packages on disk and with the import-linter
contracts in pyproject.toml (which `lint-imports` enforces on the code)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "plugins" / "chuyencan"


def diagram_layers() -> list[set[str]]:
    """The packages in each `subgraph` of the mermaid diagram, top layer first."""
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    mermaid = re.search(r"```mermaid\n(.*?)```", doc, re.S)
    assert mermaid, "docs/architecture.md has no mermaid diagram"
    layers = re.findall(r"subgraph .*?\n(.*?)\n\s*end", mermaid.group(1), re.S)
    return [set(re.findall(r'"chuyencan\.(\w+)"', layer)) for layer in layers]


def contracts() -> dict[str, dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    assert config["root_packages"] == ["chuyencan"]
    return {c["id"]: c for c in config["contracts"]}


def test_the_diagram_shows_every_package_of_the_code_once() -> None:
    on_disk = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    shown = [name for layer in diagram_layers() for name in layer]
    assert sorted(shown) == sorted(on_disk)
    assert not [p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py"], "modules outside the layers"


def test_the_diagram_and_the_layers_contract_agree() -> None:
    layers = contracts()["layers"]
    assert layers["containers"] == ["chuyencan"]
    assert layers.get("exhaustive") is True
    declared = [set(re.split(r"\s*[:|]\s*", layer)) for layer in layers["layers"]]
    assert declared == diagram_layers()


def test_the_flows_layer_is_the_independence_contract() -> None:
    flows = {m.removeprefix("chuyencan.") for m in contracts()["independent-flows"]["modules"]}
    assert flows == diagram_layers()[1]
    core_contract = contracts()["core-imports-no-flow"]
    assert core_contract["source_modules"] == ["chuyencan.core"]
    forbidden = {m.removeprefix("chuyencan.") for m in core_contract["forbidden_modules"]}
    assert forbidden == flows | {"orchestration"}


def test_only_orchestration_may_import_airflow() -> None:
    airflow = contracts()["airflow-only-in-orchestration"]
    assert airflow["forbidden_modules"] == ["airflow"]
    sources = {m.removeprefix("chuyencan.") for m in airflow["source_modules"]}
    assert sources == set().union(*diagram_layers()) - {"orchestration"}


def test_the_image_does_not_ship_the_development_tools() -> None:
    copies = [line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("COPY")]
    assert copies
    assert not [line for line in copies if "devtools" in line or line.split()[-2] in ("./", ".")]
