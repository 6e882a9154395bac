"""The shared kernel imports no service: `services/` is what every process imports, and nothing else.

Every module under `services/` is parsed, not imported, so an import hidden inside a function
(where the launcher's seeding used to reach into the services) counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

from services.settings import PROJECT_ROOT

KERNEL = PROJECT_ROOT / "services"
OUTSIDE_THE_KERNEL = frozenset(
    {"gateway", "catalog_service", "ticket_service", "notification_service", "sla_worker", "launcher"}
)
DYNAMIC_IMPORTERS = frozenset({"import_module", "__import__"})


def _top_package(module: str) -> str:
    return module.split(".", 1)[0]


def forbidden_imports(source: str) -> list[str]:
    """Every import of a package outside the kernel, as `line: module`, wherever it is written."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        elif isinstance(node, ast.Call):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if called in DYNAMIC_IMPORTERS and node.args and isinstance(node.args[0], ast.Constant):
                modules = [str(node.args[0].value)]
        found += [(node.lineno, module) for module in modules if _top_package(module) in OUTSIDE_THE_KERNEL]
    return [f"{line}: {module}" for line, module in sorted(found)]


def _kernel_modules() -> list[Path]:
    return sorted(KERNEL.rglob("*.py"))


def test_no_kernel_module_imports_a_service_or_the_launcher() -> None:
    modules = _kernel_modules()
    assert KERNEL / "settings.py" in modules and KERNEL / "db.py" in modules
    offences = {
        str(path.relative_to(PROJECT_ROOT)): found
        for path in modules
        if (found := forbidden_imports(path.read_text(encoding="utf-8")))
    }
    assert offences == {}


def test_the_check_sees_every_form_of_import() -> None:
    source = """
import gateway
import services.db, ticket_service.models as tickets
from catalog_service.seed import seed
from services.settings import SharedSettings
from . import errors
import importlib

def later() -> None:
    from launcher.registry import HTTP_SERVICES
    import notification_service.settings
    importlib.import_module("sla_worker.worker")
    __import__("gateway.app")
    importlib.import_module("services.pagination")
"""
    assert forbidden_imports(source) == [
        "2: gateway",
        "3: ticket_service.models",
        "4: catalog_service.seed",
        "10: launcher.registry",
        "11: notification_service.settings",
        "12: sla_worker.worker",
        "13: gateway.app",
    ]


def test_a_kernel_package_whose_name_only_starts_like_a_service_is_allowed() -> None:
    assert forbidden_imports("import gateway_helpers\nfrom launchers import x\n") == []
