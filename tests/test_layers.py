"""The package's layers hold: the pure core imports no edge module, and no modules import each
other round a circle (module-level, function-level and TYPE_CHECKING imports all count)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = "targetkit"

# The pure core: plan + actuals + date in, results out. No files, clock, environment, sqlite,
# SMTP or rendering.
CORE = {
    "targetkit.exceptions",
    "targetkit.units",
    "targetkit.pace",
    "targetkit.model",
    "targetkit.rules",
    "targetkit.evaluation",
    "targetkit.alerts",
    "targetkit.forecast",
    "targetkit._version",
}

# The renderers (table, JSON/CSV, Markdown, HTML report, charts, notebook views) are one edge
# package; their old top-level paths are edge modules too, which import only their new home.
RENDER = "targetkit.render"
RENDERERS = ("formats", "report", "charts", "notebook")


def _modules() -> dict[str, Path]:
    out = {}
    for path in (SRC / PACKAGE).rglob("*.py"):
        name = ".".join(path.relative_to(SRC).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Return the package's modules that ``name`` imports anywhere in its source."""
    found: set[str] = set()
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = name.split(".") if is_package else name.split(".")[:-1]
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, *([base] if base else [])])
            targets = [base, *(f"{base}.{a.name}" for a in node.names)]
        for imported in targets:
            module = imported
            while module and module not in MODULES:
                module = module.rpartition(".")[0]
            if module and module != name:
                found.add(module)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _in_core(name: str) -> bool:
    return any(name == c or name.startswith(c + ".") for c in CORE)


def test_the_core_imports_no_edge_module() -> None:
    crossings = sorted(
        (name, dep)
        for name, deps in GRAPH.items()
        if _in_core(name)
        for dep in deps
        if not _in_core(dep) and dep != PACKAGE
    )
    assert crossings == []


def test_no_module_imports_the_package_root_but_the_entry_points() -> None:
    # importing the root from inside would run every module's import: a cycle in all but name
    assert (
        sorted(n for n, deps in GRAPH.items() if PACKAGE in deps and n != "targetkit.__main__")
        == []
    )


def test_no_import_cycles() -> None:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert cycles == []


def test_the_graph_sees_the_imports() -> None:
    # a check that reads nothing would pass for nothing
    assert "targetkit.model" in GRAPH["targetkit.evaluation"]
    assert "targetkit.rules._base" in GRAPH["targetkit.rules.thresholds"]
    assert "targetkit.pace" in GRAPH["targetkit.model"]
    assert "targetkit.render.report" in GRAPH["targetkit.render.notebook"]
    assert "targetkit.render._figure" in GRAPH["targetkit.render.charts"]


def test_the_renderers_are_one_package_at_the_edge() -> None:
    inside = {n for n in MODULES if n.startswith(RENDER + ".")}
    assert inside == {f"{RENDER}.{m}" for m in (*RENDERERS, "_figure")}
    assert not any(_in_core(n) for n in (RENDER, *inside))
    assert "targetkit._figure" not in MODULES


def test_the_render_package_imports_no_module_of_its_own() -> None:
    # importing targetkit.render stays cheap: no renderer, hence no pandas or matplotlib
    assert GRAPH[RENDER] == set()


def test_the_old_renderer_paths_import_only_their_new_home() -> None:
    for name in RENDERERS:
        assert GRAPH[f"targetkit.{name}"] == {f"{RENDER}.{name}"}, name


# --------------------------------------------------------------------------- rule kinds


def _kind_switches(tree: ast.AST, names: set[str], classes: set[str]) -> list[str]:
    """Return each place a module tells rule kinds apart by name or by class."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            texts = [ast.unparse(side) for side in sides]
            literals = [
                e.value
                for side in sides
                for e in (side.elts if isinstance(side, ast.Tuple | ast.Set | ast.List) else [side])
                if isinstance(e, ast.Constant) and e.value in names
            ]
            if literals and any("kind" in text for text in texts):
                found.append(f"{node.lineno}: {ast.unparse(node)}")
            if (
                isinstance(node.left, ast.Call)
                and isinstance(node.left.func, ast.Name)
                and node.left.func.id == "type"
                and any(isinstance(op, ast.Is | ast.IsNot | ast.Eq) for op in node.ops)
            ):
                found.append(f"{node.lineno}: {ast.unparse(node)}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "isinstance"
            and len(node.args) == 2
        ):
            wanted = node.args[1]
            items = wanted.elts if isinstance(wanted, ast.Tuple) else [wanted]
            named = {e.id if isinstance(e, ast.Name) else getattr(e, "attr", "") for e in items}
            if named & classes:
                found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_module_but_the_kinds_own_tells_rule_kinds_apart() -> None:
    # the table, JSON/CSV, report, charts, trajectories, the reader and the drafter ask a kind
    # through its protocol (fields, Display hints, describe) instead of switching on its name
    from targetkit import rules

    names = set(rules.rule_kinds())
    classes = set()
    for name in names:
        kind = rules.rule_kind(name)
        assert kind is not None
        rule_class = getattr(kind, "rule_class", None)  # the built-ins' own rule classes
        classes |= {type(kind).__name__, *([rule_class.__name__] if rule_class else [])}
    assert {"at_least", "decrease", "milestone"} <= names
    switches = {}
    for path in sorted((SRC / "targetkit").rglob("*.py")):
        if "rules" in path.relative_to(SRC / "targetkit").parts:
            continue
        found = _kind_switches(ast.parse(path.read_text(encoding="utf-8")), names, classes)
        if found:
            switches[str(path.relative_to(SRC))] = found
    assert switches == {}


def test_the_kind_switch_finder_finds_switches() -> None:
    source = (
        'if rule.kind == "at_least": pass\n'
        'if r.rule_kind in ("share", "rank"): pass\n'
        "if isinstance(rule, Milestone): pass\n"
        "if type(rule) is Growth: pass\n"
        'if col.role == "growth": pass\n'  # a column's role, not a rule kind
    )
    found = _kind_switches(
        ast.parse(source), {"at_least", "share", "growth"}, {"Milestone", "Growth"}
    )
    assert [line.split(":")[0] for line in found] == ["1", "2", "3", "4"]
