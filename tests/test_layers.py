"""The layers of a service point inward: entrypoints may import anything of their
service; the service layer and the adapters never import the entrypoints; the domain
imports neither the adapters, the service layer nor the entrypoints. Checked by parsing
every module (imports inside functions count too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = sorted(p for p in (ROOT / "services").glob("*/oms_*") if p.is_dir())
#: For each inner layer, the layers of the same service it must not import.
FORBIDDEN = {
    "domain": ("adapters", "service_layer", "entrypoints"),
    "service_layer": ("entrypoints",),
    "adapters": ("entrypoints",),
}


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def violations(package: Path) -> list[str]:
    found = []
    for layer, forbidden in FORBIDDEN.items():
        for path in sorted((package / layer).rglob("*.py")):
            for name in imported_modules(path):
                parts = name.split(".")
                if parts[0] == package.name and len(parts) > 1 and parts[1] in forbidden:
                    found.append(f"{path.relative_to(package.parent)} imports {name}")
    return sorted(set(found))


@pytest.mark.parametrize("package", SERVICES, ids=[p.name for p in SERVICES])
def test_inner_layers_do_not_import_outer_ones(package: Path) -> None:
    assert violations(package) == []


def test_the_check_finds_a_lazy_import_of_an_outer_layer(tmp_path: Path) -> None:
    package = tmp_path / "oms_demo"
    (package / "adapters").mkdir(parents=True)
    (package / "adapters" / "x.py").write_text(
        "def f():\n    from oms_demo.entrypoints import proto_mapping\n"
    )
    assert violations(package) == [
        "oms_demo/adapters/x.py imports oms_demo.entrypoints",
        "oms_demo/adapters/x.py imports oms_demo.entrypoints.proto_mapping",
    ]
