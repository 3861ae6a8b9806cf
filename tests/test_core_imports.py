"""Dependencies point one way: stages import the core only, the core imports nothing else of ours and
its modules import each other without a circle. Read from the source (every import statement, also
those inside functions), so a lazy import counts like any other."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = "zwgk"
STAGES = ("crawlers", "demo", "nlp", "index", "measures", "alerts", "events")
COMPOSERS = ("pipeline", "dags", "dashboards", "bench")  # may import anything
OURS = (CORE, *STAGES, *COMPOSERS)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    """Every module of ours by dotted name."""
    return {_module_name(p): p for top in OURS for p in sorted((ROOT / top).rglob("*.py"))}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Modules of ours that `name` imports (`from pkg import mod` names the module when it is one)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.add(sub if sub in known else base)
    return {m for m in out if m.split(".")[0] in OURS and m != name}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def test_stages_import_only_the_core_and_themselves():
    wrong = sorted(
        f"{name} imports {target}"
        for name, targets in _graph().items()
        if name.split(".")[0] in STAGES
        for target in targets
        if target.split(".")[0] not in (CORE, name.split(".")[0])
    )
    assert wrong == []


def test_core_imports_no_stage():
    wrong = sorted(
        f"{name} imports {target}"
        for name, targets in _graph().items()
        if name.split(".")[0] == CORE
        for target in targets
        if target.split(".")[0] != CORE
    )
    assert wrong == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module, or a module importing itself (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1 or v in graph.get(v, ()):
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_core_modules_import_without_a_circle():
    core = {name: {t for t in targets if t.split(".")[0] == CORE}
            for name, targets in _graph().items() if name.split(".")[0] == CORE}
    assert _cycles(core) == []


def test_the_walk_sees_lazy_imports_and_circles():
    """The checks above can fail: a function-level import is an edge, and a circle is found."""
    graph = _graph()
    assert "zwgk.vocabulary" in graph["zwgk"]  # from zwgk import vocabulary: the module, not the package
    assert "measures.stored" in graph["dashboards.reports"]  # imported inside a function
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
