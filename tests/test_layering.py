"""The package's layers (STYLE.md, "Where things live"): each module imports only its own layer or
the layers below it, and no two modules import each other, directly or around a circle.

Every import counts, inside functions and under `TYPE_CHECKING` too: a deferred import still
ties the two modules' meanings together.
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "poollint"

# Lowest first. The deployment-file parsers sit below the Python readers: they read no Python
# themselves, and the readers mask the URLs they quote with config/urls.py. The name resolver
# (python/names.py) needs only the standard library: a leaf, so that every reader of Python uses
# it, the URL scan (config/pyscan.py) too.
LAYERS = (
    ("leaves", ("poollint", "poollint._toml", "poollint.limits", "poollint.pyast", "poollint.findings",
                "poollint.paths", "poollint.settings", "poollint.catalog", "poollint.python.names")),
    ("deployment files", ("poollint.config",)),
    ("readers", ("poollint.python", "poollint.javascript")),
    ("rules", ("poollint.rules",)),
    ("engine", ("poollint.engine",)),
    ("doors", ("poollint.reporters", "poollint.cli", "poollint.__main__", "poollint.flake8_plugin",
               "poollint.docs")),
)


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ("poollint", *path.relative_to(PACKAGE).with_suffix("").parts)
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parts, base] if base else parts)
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            # a module's own package is imported with it; that is not a dependency
            if target and target != name and not name.startswith(f"{target}."):
                found.add(target)
    return found


def _layer(name: str) -> int:
    for number, (_, prefixes) in enumerate(LAYERS):
        if any(name == p or (p != "poollint" and name.startswith(f"{p}.")) for p in prefixes):
            return number
    raise AssertionError(f"{name} belongs to no layer: add it to LAYERS in tests/test_layering.py")


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def test_every_module_imports_only_its_own_layer_or_lower_ones():
    upward = [f"{name} ({LAYERS[_layer(name)][0]}) imports {target} ({LAYERS[_layer(target)][0]})"
              for name, targets in sorted(_graph().items()) for target in sorted(targets)
              if _layer(target) > _layer(name)]
    assert not upward, "\n".join(upward)


def test_no_module_imports_itself_around_a_circle():
    graph = _graph()
    circles = []
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()

    def visit(name: str) -> None:  # Tarjan's strongly connected components
        order[name] = low[name] = len(order)
        stack.append(name)
        on_stack.add(name)
        for target in graph[name]:
            if target not in order:
                visit(target)
                low[name] = min(low[name], low[target])
            elif target in on_stack:
                low[name] = min(low[name], order[target])
        if low[name] == order[name]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == name:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for name in sorted(graph):
        if name not in order:
            visit(name)
    assert not circles, "\n".join(" <-> ".join(circle) for circle in circles)


def test_the_check_finds_an_upward_import_inside_a_function(tmp_path):
    """The check itself: a rule that imports the runner lazily (as one once did for `display_path`)."""
    rule = tmp_path / "creation.py"
    rule.write_text("def shown(path):\n    from poollint.engine.runner import display_path\n"
                    "    return display_path(path)\n")
    targets = _imports("poollint.rules.creation", rule, _modules())
    assert "poollint.engine.runner" in targets
    assert _layer("poollint.engine.runner") > _layer("poollint.rules.creation")
