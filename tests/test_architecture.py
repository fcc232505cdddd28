"""Imports point one way (docs/architecture.md): front ends -> features -> analysis -> models and
the training kit -> vocabulary and io. Every module's imports are read with ast (those inside
functions too: a lazy import is still a dependency), and the test fails on an import that points
up the layer order or on a cycle.

Run as a script (``python tests/test_architecture.py [SRC]``) it prints the figures: modules,
lines, import edges between moodshift's modules, cycles and upward imports.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "moodshift"

FRONT_ENDS, FEATURES, ANALYSIS, MODELS, VOCABULARY = 1, 2, 3, 4, 5
# Each top-level module or package of moodshift and its layer (an import may point to its own
# layer or further down; within a layer, packages must not import each other in a circle).
LAYERS: dict[str, int] = {
    "cli": FRONT_ENDS, "web": FRONT_ENDS, "__main__": FRONT_ENDS, "console": FRONT_ENDS,
    "fuzzing": FRONT_ENDS,
    "stylize": FEATURES, "style": FEATURES, "generate": FEATURES, "evolve": FEATURES,
    "rate": FEATURES, "text": FEATURES, "batch": FEATURES, "annotate": FEATURES,
    "evaluate": FEATURES, "pipeline": FEATURES,
    "analyze": ANALYSIS, "faces": ANALYSIS, "expression": ANALYSIS, "mood": ANALYSIS,
    "models": MODELS, "training": MODELS,
    "emotions": VOCABULARY, "people": VOCABULARY, "seeds": VOCABULARY, "imageio": VOCABULARY,
    "sheets": VOCABULARY,
    "errors": VOCABULARY, "outputs": VOCABULARY, "drawing": VOCABULARY, "resume_log": VOCABULARY,
    "__init__": VOCABULARY,
}
# (a, b): feature package a must not import b (evolve searches the GAN's latent space, so it
# may use generate's generator; generate takes nothing from evolve).
APART = (("generate", "evolve"),)


@dataclass
class Graph:
    modules: dict[str, Path] = field(default_factory=dict)     # dotted name -> file
    lines: int = 0
    edges: dict[str, set[str]] = field(default_factory=dict)    # importer -> imported


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def _imported(node: ast.AST, known: set[str]) -> list[str]:
    """The moodshift modules an import statement names (a package, or a module inside one)."""
    names: list[str] = []
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module
                 for a in node.names]
    out = []
    for name in names:
        while name and name not in known:   # `import moodshift.x.y` of a name inside a module
            name = name.rpartition(".")[0]
        if name.startswith("moodshift"):
            out.append(name)
    return out


def _type_only(node: ast.If) -> bool:
    test = node.test
    return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"


def read_graph(root: Path = SRC) -> Graph:
    graph = Graph()
    files = sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)
    for path in files:
        graph.modules[module_name(path, root)] = path
    known = set(graph.modules)
    for name, path in graph.modules.items():
        text = path.read_text(encoding="utf-8")
        graph.lines += text.count("\n")
        targets: set[str] = set()
        stack: list[ast.AST] = [ast.parse(text)]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.If) and _type_only(node):
                stack.extend(node.orelse)
                continue
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                targets.update(t for t in _imported(node, known) if t != name)
            stack.extend(ast.iter_child_nodes(node))
        graph.edges[name] = targets
    return graph


def unit(module: str) -> str:
    """The top-level module or package a module belongs to ("moodshift.style.engines.fast" -> style)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def upward_imports(graph: Graph) -> list[str]:
    bad = []
    for importer, targets in graph.edges.items():
        for target in targets:
            a, b = LAYERS.get(unit(importer)), LAYERS.get(unit(target))
            if a is None or b is None or b < a:
                bad.append(f"{importer} -> {target}")
    return sorted(bad)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def package_edges(graph: Graph) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for importer, targets in graph.edges.items():
        out.setdefault(unit(importer), set()).update(
            unit(t) for t in targets if unit(t) != unit(importer))
    return out


def figures(root: Path = SRC) -> dict[str, object]:
    graph = read_graph(root)
    return {"modules": len(graph.modules), "lines": graph.lines,
            "import edges": sum(len(t) for t in graph.edges.values()),
            "module cycles": len(cycles(graph.edges)),
            "package cycles": len(cycles(package_edges(graph))),
            "upward imports": len(upward_imports(graph)),
            "private names imported": len(private_imports(root)),
            "modules over 400 lines": sorted(
                m for m, p in graph.modules.items()
                if p.read_text(encoding="utf-8").count("\n") > 400)}


# ------------------------------------------------------------------------------------- tests
GRAPH = read_graph()


def test_every_module_has_a_layer() -> None:
    assert sorted({unit(m) for m in GRAPH.modules} - set(LAYERS) - {"data"}) == []


def test_imports_point_down_the_layers() -> None:
    assert upward_imports(GRAPH) == []


def test_no_import_cycles_between_modules_or_packages() -> None:
    assert cycles(GRAPH.edges) == []
    assert cycles(package_edges(GRAPH)) == []


def test_generate_does_not_import_evolve() -> None:
    edges = package_edges(GRAPH)
    for a, b in APART:
        assert b not in edges.get(a, set())


def test_nothing_imports_the_front_ends() -> None:
    users = sorted(f"{m} -> {t}" for m, targets in GRAPH.edges.items() for t in targets
                   if unit(t) in ("cli", "web") and LAYERS.get(unit(m)) != FRONT_ENDS)
    assert users == []


def test_the_model_store_imports_no_feature() -> None:
    wrong = sorted(f"{m} -> {t}" for m, targets in GRAPH.edges.items() if unit(m) == "models"
                   for t in targets if LAYERS.get(unit(t), 0) < MODELS)
    assert wrong == []


def private_imports(root: Path = SRC) -> list[str]:
    """`from moodshift.x import _name`: a module reaching into another's private names."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("moodshift"):
                found += [f"{module_name(path, root)} imports {node.module}.{a.name}"
                          for a in node.names
                          if a.name.startswith("_") and not a.name.endswith("__")]
    return found


def test_no_private_names_imported_across_modules() -> None:
    assert private_imports() == []


def test_the_architecture_checks_can_fail() -> None:
    graph = Graph(modules={"moodshift.emotions": SRC, "moodshift.cli": SRC, "moodshift.a": SRC},
                  edges={"moodshift.emotions": {"moodshift.cli"}, "moodshift.cli": set()})
    assert upward_imports(graph) == ["moodshift.emotions -> moodshift.cli"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else SRC
    for key, value in figures(root).items():
        print(f"{key}: {value}")
    graph = read_graph(root)
    for line in upward_imports(graph):
        print("  up:", line)
    for group in cycles(graph.edges):
        print("  module cycle:", " -> ".join(group))
    for group in cycles(package_edges(graph)):
        print("  package cycle:", " -> ".join(group))
