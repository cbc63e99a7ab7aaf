"""The package's dependency direction (DESIGN §1, issue 14 item 10): no two modules import each
other, even lazily inside a function; the case schema imports neither the engine nor the
population; the core never imports Streamlit or Plotly."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "crmsim"


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every module of the package that ``name`` imports, at any depth of its code (a
    ``TYPE_CHECKING`` block excepted: it never runs)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    skip = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for n in ast.walk(node)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            subs = [f"{mod}.{a.name}" for a in node.names if f"{mod}.{a.name}" in MODULES]
            found.update(subs)
            if len(subs) < len(node.names):
                found.add(mod)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycles() -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in GRAPH:
        if v not in index:
            visit(v)
    return groups


def test_the_graph_sees_the_package():
    assert len(GRAPH) > 40
    assert "crmsim.model.month" in GRAPH["crmsim.model.run"]
    assert "crmsim.cli_model" in GRAPH["crmsim.cli"]


def test_no_two_modules_import_each_other():
    assert _cycles() == []


def test_a_cycle_would_be_found():
    GRAPH["crmsim.model.case"].add("crmsim.model.run")  # what the test must catch
    try:
        assert any("crmsim.model.case" in g for g in _cycles())
    finally:
        GRAPH["crmsim.model.case"].discard("crmsim.model.run")


def _reaches(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for w in GRAPH[todo.pop()] - seen:
            seen.add(w)
            todo.append(w)
    return seen


def test_the_case_schema_imports_neither_engine_nor_population():
    below = _reaches("crmsim.model.case")
    assert not below & {"crmsim.model.run", "crmsim.model.month", "crmsim.population"}
    # the calibration check (crmsim.cases) runs the engine: it sits above it, never below
    assert "crmsim.model.run" in _reaches("crmsim.cases")
    assert "crmsim.cases" not in _reaches("crmsim.model.run")


def test_the_core_never_imports_streamlit_or_plotly():
    for name, path in MODULES.items():
        if name.startswith("crmsim.ui") or name == "crmsim.charts":
            continue
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        for node in ast.walk(tree):
            mods = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not any(m.split(".")[0] in ("streamlit", "plotly") for m in mods), name
