"""Libraries import no service: the services depend on ``libs/``, never the other way round.

Every module under ``libs/`` is parsed, so an import inside a function (made lazy to
keep a command fast) counts as much as one at the top of the file.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
LIBS = ROOT / "libs"
#: Every service package: ``services/<name>/oms_<name>``.
SERVICE_PACKAGES = frozenset(path.name for path in ROOT.glob("services/*/oms_*") if path.is_dir())
_IMPORTERS = frozenset({"import_module", "__import__"})


def imported_modules(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """``(line, module)`` of every absolute import, and of ``import_module("...")`` calls."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
        elif isinstance(node, ast.Call) and node.args:
            name = getattr(node.func, "attr", getattr(node.func, "id", None))
            first = node.args[0]
            if name in _IMPORTERS and isinstance(first, ast.Constant):
                yield node.lineno, str(first.value)


def service_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_bytes(), filename=str(path))
    return [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for line, module in imported_modules(tree)
        if module.split(".")[0] in SERVICE_PACKAGES
    ]


def test_the_service_packages_are_found() -> None:
    assert {"oms_orders", "oms_inventory", "oms_aftersales", "oms_gateway"} <= SERVICE_PACKAGES


def test_no_module_under_libs_imports_a_service() -> None:
    offending = [hit for path in sorted(LIBS.rglob("*.py")) for hit in service_imports(path)]
    assert offending == [], "libraries must not import services:\n" + "\n".join(offending)


def test_a_lazy_import_inside_a_function_is_found(tmp_path: Path) -> None:
    module = tmp_path / "lazy.py"
    module.write_text(
        "def build():\n"
        "    from oms_gateway.platforms import jd\n"
        "    import oms_orders.domain\n"
        "    return importlib.import_module('oms_inventory.x')\n"
    )
    found = [name for _, name in imported_modules(ast.parse(module.read_text()))]
    assert found == ["oms_gateway.platforms", "oms_orders.domain", "oms_inventory.x"]
