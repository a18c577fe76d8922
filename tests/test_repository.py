"""What must never be shipped inside the package, and which way its apps may import."""

import ast
from pathlib import Path

import pytest

import arrears


def test_the_package_holds_no_secret_key():
    # A key in the repository signs sessions, owner links and sandbox notifications for anyone who reads it.
    assert list(Path(arrears.__file__).parent.rglob("secret_key")) == []


# ---- the house (DESIGN.md §4): core is the ground floor, demo the top floor

APPS = sorted(p.name for p in Path(arrears.__file__).parent.iterdir() if (p / "apps.py").exists())


def imported_apps(source: str, package: str) -> set[str]:
    """The arrears apps a module imports (absolute or relative, at the top or inside a function)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                names = [".".join(base + ([node.module] if node.module else []))]
            else:
                names = [node.module or ""]
            names += [f"{names[0]}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if len(parts) > 1 and parts[0] == "arrears" and parts[1] in APPS:
                found.add(parts[1])
    return found


def imports_of(app: str) -> dict[str, set[str]]:
    """Each module of `app` → the other apps it imports."""
    root = Path(arrears.__file__).parent / app
    result = {}
    for path in sorted(root.rglob("*.py")):
        package = ".".join(("arrears", *path.relative_to(root.parent).parent.parts))
        others = imported_apps(path.read_text(encoding="utf-8"), package) - {app}
        if others:
            result[str(path.relative_to(root.parent))] = others
    return result


def test_the_house_has_a_core_and_a_demo_app():
    assert {"core", "demo", "estate", "ledger", "collection"} <= set(APPS)


def test_core_imports_no_app():
    # core stands under every app: money, errors, audit, roles, db helpers
    assert imports_of("core") == {}


def test_no_app_imports_the_demo():
    # the demo stands on every app; an app importing it would ship demo data in the product
    offenders = {module: others for app in APPS if app != "demo" for module, others in imports_of(app).items()
                 if "demo" in others}
    assert offenders == {}


@pytest.mark.parametrize(("source", "package", "expected"), [
    ("from arrears.estate.models import Unit", "arrears.core", {"estate"}),
    ("import arrears.ledger.services", "arrears.core", {"ledger"}),
    ("from arrears import demo", "arrears.portal", {"demo"}),
    ("def f():\n    from arrears.demo.staff import LOGINS", "arrears.staff", {"demo"}),
    ("from ..demo import staff", "arrears.portal", {"demo"}),
    ("from ..demo import staff", "arrears.portal.management", {"portal"}),
    ("from .money import ZERO", "arrears.core", {"core"}),
    ("from django.db import models", "arrears.core", set()),
])
def test_it_sees_every_way_of_importing_an_app(source, package, expected):
    # the checks above fail on any of these (they cannot pass by not looking)
    assert imported_apps(source, package) == expected


def test_only_the_staff_site_and_the_demo_stand_on_the_legal_desk():
    # legal depends on every app below it; nothing below depends on it (DESIGN.md §4)
    offenders = {module: others for app in APPS if app not in ("legal", "staff", "demo")
                 for module, others in imports_of(app).items() if "legal" in others}
    assert offenders == {}


def test_only_the_staff_site_the_api_and_the_demo_read_the_insights():
    # insights reads every app; none below reads it (DESIGN.md §4), so a figure never feeds a rule unseen
    offenders = {module: others for app in APPS if app not in ("insights", "staff", "api", "demo")
                 for module, others in imports_of(app).items() if "insights" in others}
    assert offenders == {}


def test_only_the_demo_stands_on_the_platform():
    # api (the REST API, health, the server) stands on every app; none of them reads it (DESIGN.md §4)
    offenders = {module: others for app in APPS if app not in ("api", "demo")
                 for module, others in imports_of(app).items() if "api" in others}
    assert offenders == {}
