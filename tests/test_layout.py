"""The package's dependency direction (DESIGN §1, issue 14 item 10): no two modules import each
other, even lazily inside a function; the case schema imports neither the engine nor the
population; Plotly only under crmsim/charts/ (and in the Streamlit glue, crmsim/ui/), Streamlit
only in crmsim/ui/, and the charts never reach the glue."""

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


def _top_level_imports(path: Path) -> set[str]:
    """The top-level name of every module ``path`` imports, at any depth of its code."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level:
            found.add((node.module or "").split(".")[0])
    return found


def _in(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _forbidden(name: str, imports: set[str]) -> set[str]:
    """What module ``name`` may not import of ``imports`` (DESIGN §2): Streamlit only in the glue
    (``crmsim/ui/``); Plotly only under ``crmsim/charts/``, whose figures the glue hands to
    Streamlit (``crmsim/ui/`` may import it too); the charts never import Streamlit."""
    allowed = set()
    if _in(name, "crmsim.ui"):
        allowed = {"streamlit", "plotly"}
    elif _in(name, "crmsim.charts"):
        allowed = {"plotly"}
    return imports & ({"streamlit", "plotly"} - allowed)


def test_plotly_only_under_charts_and_streamlit_only_in_the_ui():
    for name, path in MODULES.items():
        assert _forbidden(name, _top_level_imports(path)) == set(), name
    # the rule sees what it rules on: the charts are a package of modules that import Plotly
    charts = [m for m in MODULES if _in(m, "crmsim.charts") and m != "crmsim.charts"]
    assert len(charts) >= 5 and all("plotly" in _top_level_imports(MODULES[m]) for m in charts)


def test_the_charts_never_reach_streamlit_or_the_ui():
    for name in (m for m in MODULES if _in(m, "crmsim.charts")):
        assert "streamlit" not in _top_level_imports(MODULES[name]), name
        assert not any(_in(m, "crmsim.ui") for m in _reaches(name)), name
    assert "crmsim.charts.base" in _reaches("crmsim.charts")


def test_a_stray_import_would_be_found():
    assert _forbidden("crmsim.metrics", {"numpy", "plotly"}) == {"plotly"}
    assert _forbidden("crmsim.model.run", {"streamlit"}) == {"streamlit"}
    assert _forbidden("crmsim.chartsy", {"plotly"}) == {"plotly"}  # a name beside the package
    assert _forbidden("crmsim.charts.scatter", {"plotly", "streamlit"}) == {"streamlit"}
    assert _forbidden("crmsim.charts", {"plotly"}) == set()
    assert _forbidden("crmsim.ui.segments", {"plotly", "streamlit"}) == set()
    assert _top_level_imports(ROOT / "ui" / "live_chart.py") >= {"plotly", "streamlit"}
