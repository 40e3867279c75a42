"""Dependencies between the app's packages point one way.

Every module under ``app/`` is parsed (not imported) and every import in it is read, those
inside functions and under ``TYPE_CHECKING`` too: an import deferred to dodge a cycle is still
the cycle. Imports are gathered per top-level package (``app.grading.queue`` belongs to
``grading``).

The intended layering, bottom first; a feature imports only features in lower layers:

1. ``lti`` — the LMS plumbing (the only package that imports pylti1p3).
2. ``admin`` — the console's shell (operator accounts, sign-in, ``console.attach``) that the
   other features' console pages stand in. (STYLE's sketch put it on top; but catalog, grading
   and badges build their console pages on it, and only its navigation reads back.)
3. ``catalog`` — organisations, credentials and their versions, stacks, authoring.
4. ``linking`` — Deep Linking and course activities: which credential a course's link stands
   for, and who has opened it (DESIGN's ``activities``, below evidence).
5. ``evidence`` — a learner's attempts and their files.
6. ``grading`` — reviews, decisions and sending grades back to the LMS.
7. ``badges`` (issuing and hosting Open Badges), ``progress`` (an activity's page, who has
   opened it and the class's progress: reads evidence, grading and linking), ``core`` (the
   home page) and ``backup`` (a copy of the database and of the evidence files it refers to:
   reads evidence): peers, which do not import each other.
8. ``reports`` — the console's outcome reports: read the catalog, evidence, grading and the
   LMS's names through their public functions, and write CSV as the class progress does; and
   ``privacy`` — a person's records on request: reads evidence, grading (through evidence's
   decisions) and badges. Peers, which do not import each other.
9. ``devlms`` — the development LMS, independent of the product except where it seeds it.

Beside the layers, shared infrastructure (``SHARED``: the base every app is built on, the
database, errors, input parsing, tenancy, key generation, health, logs, the audit log, the
outbox and the worker that runs the features' jobs) may be imported by any feature but imports
no feature, and the composition root (``ROOT``: the app factory, the migrations and ``flask
db``, the model registry, ``flask serve``) may import anything and is imported by nothing else.

Besides pointing down, a feature reads another through its public functions, not its tables:
a module of one feature importing another feature's ``models`` module breaks the rule.

The edges that still break these rules are listed in ``KNOWN_UPWARD`` and ``KNOWN_MODELS``.
The lists only shrink: an edge listed that no longer exists fails the test too, so they stay
a true account of what remains to untangle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"

ROOT = frozenset({"app", "app.migrate", "app.models", "app.serve"})
"""The composition root: wires the features together, so it may import any of them."""

SHARED = frozenset(
    {"audit", "base", "db", "errors", "health", "inputs", "keygen", "logs", "outbox", "tenancy"}
)
"""Shared infrastructure: imported by any feature, imports none."""

LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"lti"}),
    frozenset({"admin"}),
    frozenset({"catalog"}),
    frozenset({"linking"}),
    frozenset({"evidence"}),
    frozenset({"grading"}),
    frozenset({"backup", "badges", "core", "progress"}),
    frozenset({"privacy", "reports"}),
    frozenset({"devlms"}),
)
"""Feature packages, bottom layer first (see the module's docstring)."""

KNOWN_UPWARD: frozenset[tuple[str, str]] = frozenset(
    {
        # (importing module, imported module) where the import points up or sideways.
        ("app.evidence.files", "app.grading.services"),
        ("app.evidence.services", "app.grading.models"),
        ("app.evidence.services", "app.grading.outbox"),
        ("app.evidence.views", "app.grading.educator"),
    }
)
"""Imports against the layering still to be turned around: of a feature in the same or a
higher layer, of the composition root, or of a feature by shared infrastructure."""

KNOWN_MODELS: frozenset[tuple[str, str]] = frozenset(
    {
        # (importing module, another feature's models module).
        ("app.admin.services", "app.lti.models"),
        ("app.admin.views", "app.lti.models"),
        ("app.badges.cli", "app.catalog.models"),
        ("app.badges.documents", "app.catalog.models"),
        ("app.badges.identity", "app.catalog.models"),
        ("app.badges.issuance", "app.catalog.models"),
        ("app.badges.issuance", "app.evidence.models"),
        ("app.badges.issuance", "app.grading.models"),
        ("app.badges.issuance", "app.lti.models"),
        ("app.badges.models", "app.catalog.models"),
        ("app.badges.services", "app.catalog.models"),
        ("app.badges.services", "app.evidence.models"),
        ("app.badges.services", "app.grading.models"),
        ("app.badges.services", "app.lti.models"),
        ("app.badges.status", "app.catalog.models"),
        ("app.catalog.authoring", "app.admin.models"),
        ("app.evidence.access", "app.lti.models"),
        ("app.evidence.models", "app.catalog.models"),
        ("app.evidence.services", "app.catalog.models"),
        ("app.evidence.services", "app.grading.models"),
        ("app.evidence.services", "app.lti.models"),
        ("app.evidence.views", "app.catalog.models"),
        ("app.grading.assessors", "app.catalog.models"),
        ("app.grading.assessors", "app.lti.models"),
        ("app.grading.calibration", "app.catalog.models"),
        ("app.grading.calibration", "app.evidence.models"),
        ("app.grading.calibration", "app.lti.models"),
        ("app.grading.cli", "app.catalog.models"),
        ("app.grading.educator", "app.catalog.models"),
        ("app.grading.educator", "app.evidence.models"),
        ("app.grading.gradebook", "app.evidence.models"),
        ("app.grading.gradebook", "app.linking.models"),
        ("app.grading.gradebook", "app.lti.models"),
        ("app.grading.opening", "app.evidence.models"),
        ("app.grading.opening", "app.linking.models"),
        ("app.grading.opening", "app.lti.models"),
        ("app.grading.outbox", "app.evidence.models"),
        ("app.grading.queue", "app.catalog.models"),
        ("app.grading.queue", "app.evidence.models"),
        ("app.grading.queue", "app.linking.models"),
        ("app.grading.queue", "app.lti.models"),
        ("app.grading.reconcile", "app.lti.models"),
        ("app.grading.rules", "app.catalog.models"),
        ("app.grading.services", "app.catalog.models"),
        ("app.grading.services", "app.evidence.models"),
        ("app.grading.services", "app.linking.models"),
        ("app.grading.services", "app.lti.models"),
        ("app.grading.sync", "app.lti.models"),
        ("app.grading.turnaround", "app.catalog.models"),
        ("app.grading.turnaround", "app.evidence.models"),
        ("app.grading.views", "app.evidence.models"),
        ("app.grading.worker", "app.lti.models"),
        ("app.linking.models", "app.catalog.models"),
        ("app.linking.services", "app.catalog.models"),
        ("app.linking.services", "app.lti.models"),
    }
)
"""Imports of another feature's ``models`` module, still to be replaced by public functions."""


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    line: int

    def __str__(self) -> str:
        return f"{self.source} imports {self.target} (line {self.line})"


def module_names(root: Path) -> dict[str, Path]:
    """Return every module under ``root`` (a package directory) by its dotted name."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = (root.name, *path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _known_prefix(name: str, modules: Iterable[str]) -> str | None:
    """Return the longest prefix of ``name`` that is a module (``app.lti.require_launch`` is
    a name in the module ``app.lti``)."""
    known = set(modules)
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return None


def imports(root: Path) -> list[Import]:
    """Return every import between modules under ``root``, wherever in a module it stands."""
    modules = module_names(root)
    found: dict[tuple[str, str], Import] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    module = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    module = node.module or ""
                targets = [f"{module}.{alias.name}" for alias in node.names]
            for target in targets:
                resolved = _known_prefix(target, modules)
                if resolved is not None and resolved != name:
                    found.setdefault((name, resolved), Import(name, resolved, node.lineno))
    return sorted(found.values(), key=lambda edge: (edge.source, edge.target))


def owner(module: str) -> str:
    """Return the top-level package (or module) of ``app`` that ``module`` belongs to."""
    return module if module in ROOT else module.split(".")[1]


def layer(package: str) -> int | None:
    for index, members in enumerate(LAYERS):
        if package in members:
            return index
    return None


def breaks_layering(edge: Import) -> bool:
    """Tell whether an import points the wrong way between packages."""
    source, target = owner(edge.source), owner(edge.target)
    if source == target or source in ROOT:
        return False
    if target in ROOT:
        return True
    if source in SHARED:
        return target not in SHARED
    if target in SHARED:
        return False
    source_layer, target_layer = layer(source), layer(target)
    assert source_layer is not None and target_layer is not None
    return target_layer >= source_layer


def reaches_into_models(edge: Import) -> bool:
    """Tell whether a feature's module imports another feature's ``models`` module."""
    source, target = owner(edge.source), owner(edge.target)
    return (
        layer(source) is not None
        and layer(target) is not None
        and source != target
        and edge.target == f"app.{target}.models"
    )


def _cycle(edges: set[tuple[str, str]]) -> list[str] | None:
    """Return one cycle of the directed graph ``edges`` as a path, or None."""
    graph: dict[str, set[str]] = {}
    for source, target in edges:
        graph.setdefault(source, set()).add(target)
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        for following in sorted(graph.get(node, ())):
            found = visit(following, [*path, node])
            if found:
                return found
        done.add(node)
        return None

    for start in sorted(graph):
        found = visit(start, [])
        if found:
            return found
    return None


def _pairs(found: Iterable[Import]) -> set[tuple[str, str]]:
    return {(edge.source, edge.target) for edge in found}


# --- The rules -----------------------------------------------------------------------------------


def test_every_package_of_the_app_has_its_place() -> None:
    packages = {owner(name) for name in module_names(APP)}
    placed = set(ROOT) | set(SHARED) | {name for members in LAYERS for name in members}
    assert packages - placed == set(), (
        "A new package under app/: put it in a layer (or SHARED) in tests/test_dependencies.py"
    )


def test_imports_point_down_the_layers_apart_from_the_known_edges() -> None:
    wrong = [edge for edge in imports(APP) if breaks_layering(edge)]
    new = [str(edge) for edge in wrong if (edge.source, edge.target) not in KNOWN_UPWARD]
    assert new == [], (
        "Imports against the layering (see tests/test_dependencies.py):\n" + "\n".join(new)
    )


def test_features_import_no_other_features_models_apart_from_the_known_edges() -> None:
    reaching = [edge for edge in imports(APP) if reaches_into_models(edge)]
    new = [str(edge) for edge in reaching if (edge.source, edge.target) not in KNOWN_MODELS]
    assert new == [], "Imports of another feature's models; call a public function instead:\n" + (
        "\n".join(new)
    )


def test_the_known_edges_still_exist() -> None:
    found = imports(APP)
    gone = (KNOWN_UPWARD - _pairs(e for e in found if breaks_layering(e))) | (
        KNOWN_MODELS - _pairs(e for e in found if reaches_into_models(e))
    )
    assert gone == set(), f"Edges untangled: strike them from the known lists: {sorted(gone)}"


def test_feature_packages_form_no_cycle_apart_from_the_known_edges() -> None:
    known = KNOWN_UPWARD | KNOWN_MODELS
    edges = {
        (owner(edge.source), owner(edge.target))
        for edge in imports(APP)
        if (edge.source, edge.target) not in known
        and layer(owner(edge.source)) is not None
        and layer(owner(edge.target)) is not None
        and owner(edge.source) != owner(edge.target)
    }
    assert _cycle(edges) is None


# --- The reading of imports itself --------------------------------------------------------------


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "app" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "app"


def test_imports_are_read_in_functions_relative_and_by_name(tmp_path: Path) -> None:
    app = _tree(
        tmp_path,
        {
            "__init__.py": "",
            "lti/__init__.py": "def require_launch(): ...\n",
            "lti/models.py": "",
            "grading/__init__.py": "",
            "grading/queue.py": (
                "from . import models\n"
                "from ..lti import require_launch\n"
                "def later():\n"
                "    import app.lti.models\n"
            ),
            "grading/models.py": "",
        },
    )

    assert _pairs(imports(app)) == {
        ("app.grading.queue", "app.grading.models"),
        ("app.grading.queue", "app.lti"),
        ("app.grading.queue", "app.lti.models"),
    }


def test_an_import_up_the_layers_or_into_models_is_caught(tmp_path: Path) -> None:
    app = _tree(
        tmp_path,
        {
            "__init__.py": "",
            "db.py": "from app.lti import models\n",
            "lti/__init__.py": "",
            "lti/keys.py": "from app.grading import services\n",
            "lti/models.py": "",
            "grading/__init__.py": "",
            "grading/services.py": "from app.lti.models import LtiUser\nfrom app.lti import keys\n",
        },
    )
    found = imports(app)

    assert _pairs(e for e in found if breaks_layering(e)) == {
        ("app.db", "app.lti.models"),
        ("app.lti.keys", "app.grading.services"),
    }
    assert _pairs(e for e in found if reaches_into_models(e)) == {
        ("app.grading.services", "app.lti.models")
    }
    assert _cycle({("lti", "grading"), ("grading", "lti")}) == ["grading", "lti", "grading"]
    assert _cycle({("grading", "lti")}) is None
