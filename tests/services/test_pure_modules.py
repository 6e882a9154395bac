"""The pure cores import nothing that does I/O or needs a web framework, directly or through
another module of the project: the life cycle, the SLA rules, the calendar arithmetic and
the roles they reason about."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE = ("ticket_service.lifecycle", "ticket_service.sla_rules", "services.workdays", "services.principals")
# Data packages the calendar reads at import, from memory.
ALLOWED_THIRD_PARTY = {"chinese_calendar"}
PROJECT = {"services", "gateway", "catalog_service", "ticket_service", "notification_service", "sla_worker"}


def _imports(module: str) -> set[str]:
    tree = ast.parse((ROOT / (module.replace(".", "/") + ".py")).read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _closure(module: str) -> set[str]:
    """Every module `module` imports, following the project's own modules."""
    seen: set[str] = set()
    pending = [module]
    while pending:
        for name in _imports(pending.pop()):
            if name in seen:
                continue
            seen.add(name)
            if name.split(".")[0] in PROJECT:
                pending.append(name)
    return seen


@pytest.mark.parametrize("module", PURE)
def test_a_pure_module_imports_only_the_standard_library_and_other_pure_modules(module: str) -> None:
    offending = sorted(
        name
        for name in _closure(module)
        if name not in PURE
        and name.split(".")[0] not in sys.stdlib_module_names
        and name.split(".")[0] not in ALLOWED_THIRD_PARTY
        and name != "__future__"
    )
    assert offending == [], f"{module} reaches {offending}"


def test_the_check_sees_an_impure_import() -> None:
    assert "services.auth" in _closure("services.app")
    assert "fastapi" in _closure("services.auth")
