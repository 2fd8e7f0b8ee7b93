"""What `pip install .` ships and pulls in: the app and what it imports, not devstore.

Read from pyproject.toml and the distributions installed in this environment (which has
every extra), so no network and no build are needed.
"""
from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = canonicalize_name(PYPROJECT["project"]["name"])
APP_PACKAGES = ("shopapp", "reviews", "referrals")
# Only devstore needs these; a production server must not install them.
DEVSTORE_ONLY = {"graphql-core", "aiosmtpd"}


def _project_requirements(extras: set[str]) -> list[Requirement]:
    found = [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]
    for extra in extras:
        found += [Requirement(r) for r in PYPROJECT["project"]["optional-dependencies"][extra]]
    return found


def _closure(extras: set[str] = frozenset()) -> set[str]:
    """Every distribution `pip install .[extras]` installs, resolved through installed metadata."""
    seen: set[str] = set()
    todo = [(r, "") for r in _project_requirements(set(extras))]
    while todo:
        requirement, extra = todo.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        if name == PROJECT:  # an extra that names another of ours (test -> devstore)
            todo += [(r, "") for r in _project_requirements(requirement.extras)]
            continue
        wanted = [(name, "")] + [(name, e) for e in requirement.extras]
        for dist_name, dist_extra in wanted:
            if (dist_name, dist_extra) in seen:
                continue
            seen.add((dist_name, dist_extra))
            try:
                requires = metadata.distribution(dist_name).requires or []
            except metadata.PackageNotFoundError:
                continue
            todo += [(Requirement(r), dist_extra) for r in requires]
    return {name for name, _ in seen}


def _third_party_imports(package: str) -> set[str]:
    """Top-level modules imported anywhere in `package` that are neither stdlib nor ours."""
    ours = set(APP_PACKAGES) | {"devstore", "tests", "bench"}
    found: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m not in ours}


def _distributions_of(modules: set[str]) -> dict[str, set[str]]:
    providers = metadata.packages_distributions()
    missing = modules - providers.keys()
    assert not missing, f"imported but installed by no distribution: {sorted(missing)}"
    return {m: {canonicalize_name(d) for d in providers[m]} for m in modules}


def test_a_production_install_does_not_pull_devstore_dependencies():
    production = _closure()
    assert not DEVSTORE_ONLY & production, f"pip install . would install {sorted(DEVSTORE_ONLY & production)}"


def test_every_third_party_module_the_app_imports_comes_with_a_production_install():
    production = _closure()
    for package in APP_PACKAGES:
        for module, dists in _distributions_of(_third_party_imports(package)).items():
            assert dists & production, f"{package} imports {module} ({sorted(dists)}), which pip install . does not install"


def test_every_third_party_module_devstore_imports_comes_with_its_extra():
    with_devstore = _closure({"devstore"})
    for module, dists in _distributions_of(_third_party_imports("devstore")).items():
        assert dists & with_devstore, f"devstore imports {module} ({sorted(dists)}), missing from the devstore extra"
    assert DEVSTORE_ONLY <= with_devstore


def test_the_test_extra_brings_devstore_because_the_suite_runs_it():
    assert DEVSTORE_ONLY <= _closure({"test"})


def test_a_production_install_ships_the_app_but_not_devstore():
    found = PYPROJECT["tool"]["setuptools"]["packages"]["find"]
    shipped = set(find_packages(where=str(ROOT), include=found.get("include", ["*"]), exclude=found.get("exclude", ())))
    assert set(APP_PACKAGES) <= shipped
    assert not {p for p in shipped if p.split(".")[0] in {"devstore", "tests", "bench"}}, sorted(shipped)


def test_the_demo_and_the_tests_install_the_devstore_dependencies():
    """scripts/demo and scripts/test install Advocate with the extras they name (scripts/_venv.sh)."""
    default = re.search(r"ADVOCATE_EXTRAS:-([\w,]+)", (ROOT / "scripts" / "_venv.sh").read_text()).group(1)
    demo = re.search(r"ADVOCATE_EXTRAS=([\w,]+)", (ROOT / "scripts" / "demo").read_text()).group(1)
    assert "ADVOCATE_EXTRAS=" not in (ROOT / "scripts" / "test").read_text()  # the tests use the default
    for extras in (default, demo):
        assert DEVSTORE_ONLY <= _closure(set(extras.split(","))), extras
