"""DBP101's codemod: cache a module-level factory."""
from __future__ import annotations

import sys
from collections import Counter
from typing import Mapping, Optional

import libcst as cst
import libcst.helpers

from poollint.findings import Finding
from poollint.python.cst.context import assigned_names
from poollint.rules.fixes import PYTHON, FixRequest, FixResult, codemod

# Caching a factory shares one client between its callers; that is only safe when no caller
# ends that client's life (disconnect/dispose/close, a `with` block) or awaits the result.
_LIFECYCLE_FALLBACK = frozenset({"connect", "disconnect", "close", "aclose", "dispose", "terminate", "closeall"})


class _FactoryFacts(cst.CSTVisitor):
    """A factory body's calls, and whether it yields or rebinds globals (then caching changes more)."""

    def __init__(self) -> None:
        self.calls: list[cst.Call] = []
        self.unsafe = False

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(node)

    def visit_Yield(self, node: cst.Yield) -> None:
        self.unsafe = True

    def visit_Global(self, node: cst.Global) -> None:
        self.unsafe = True

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.unsafe = True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


def _module_bindings(module: cst.Module) -> Counter:
    """How many times each name is bound by a top-level statement (def, class, import, assignment)."""
    bound: Counter = Counter()
    for index, statement in enumerate(module.body):
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            bound[statement.name.value] += 1
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Assign):
                    for target in small.targets:
                        if isinstance(target.target, cst.Name):
                            bound[target.target.value] += 1
                elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                    bound[small.target.value] += 1
                elif isinstance(small, cst.Import):
                    for alias in small.names:
                        local = alias.evaluated_alias or alias.evaluated_name.split(".")[0]
                        bound[local] += 1
                elif isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                    for alias in small.names:
                        bound[alias.evaluated_alias or alias.evaluated_name] += 1
        else:
            # a name bound under if/try/with/for at module level may be bound twice
            for node in assigned_names(statement):
                bound[node] += 2
    return bound


def _cache_decorator(module: cst.Module, def_index: int, bound: Counter) -> Optional[tuple[str, str]]:
    """The expression naming functools.cache here, and the import to add: "", "module" or "name"."""
    from_functools_before_def = False
    for index, statement in enumerate(module.body):
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    if alias.evaluated_name == "functools":
                        return (f"{alias.evaluated_alias or 'functools'}.cache", "") if index < def_index else None
            elif isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None \
                    and cst.helpers.get_full_name_for_node(small.module) == "functools":
                if isinstance(small.names, cst.ImportStar):
                    return None
                from_functools_before_def = from_functools_before_def or index < def_index
                for alias in small.names:
                    if alias.evaluated_name == "cache":
                        local = alias.evaluated_alias or "cache"
                        return (local, "") if index < def_index and bound[local] == 1 else None
    if from_functools_before_def and not bound["cache"]:
        return "cache", "name"  # joins the existing `from functools import ...`
    if bound["functools"]:
        return None  # the name means something else here
    return "functools.cache", "module"


def _scope_of(node: cst.CSTNode, parents: Mapping) -> cst.CSTNode:
    while node in parents:
        node = parents[node]
        if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.Module)):
            return node
    return node


class _LifecycleUse(cst.CSTVisitor):
    """Does a scope end the life of a name (`x.dispose()`, `with x:`) or of a call's result?"""

    def __init__(self, names: set[str], methods: frozenset[str]) -> None:
        self.names = names
        self.methods = methods
        self.found = False

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Name) and node.value.value in self.names and node.attr.value in self.methods:
            self.found = True

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if isinstance(node.item, cst.Name) and node.item.value in self.names:
            self.found = True


def _callers_share_safely(module: cst.Module, name: str, parents: Mapping, lifecycle: frozenset[str]) -> bool:
    calls = [n for n in parents if isinstance(n, cst.Call) and isinstance(n.func, cst.Name) and n.func.value == name]
    for call in calls:
        parent = parents.get(call)
        if isinstance(parent, (cst.Await, cst.WithItem)):
            return False
        if isinstance(parent, cst.Attribute) and parent.attr.value in lifecycle:
            return False
        names: set[str] = set()
        if isinstance(parent, cst.Assign) and parent.value is call:
            names = {t.target.value for t in parent.targets if isinstance(t.target, cst.Name)}
            if len(names) != len(parent.targets):
                return False  # stored in an attribute or container: its later use is not visible here
        elif isinstance(parent, cst.AnnAssign) and parent.value is call:
            if not isinstance(parent.target, cst.Name):
                return False
            names = {parent.target.value}
        if names:
            use = _LifecycleUse(names, lifecycle)
            _scope_of(call, parents).visit(use)
            if use.found:
                return False
    return True


def _lifecycle_methods(request: FixRequest, module: cst.Module, factory: cst.FunctionDef) -> frozenset[str]:
    """The connect and release methods of the client the factory builds (all known ones if unsure)."""
    from poollint.python.cst.context import FileContext

    context = FileContext(request.path, request.shown, request.text, module, request.settings)
    facts = _FactoryFacts()
    factory.body.visit(facts)
    methods: set[str] = set()
    for call in facts.calls:
        spec = request.settings.catalog.client_for(context.qualified_name(call.func))
        if spec is not None:
            methods.update(spec.connect, spec.release)
    if not methods:
        methods = set(_LIFECYCLE_FALLBACK)
        for spec in request.settings.catalog.clients:
            methods.update(spec.connect, spec.release)
    return frozenset(methods)


def _cacheable_factory(request: FixRequest, module: cst.Module, name: str, parents: Mapping,
                       bound: Counter) -> Optional[tuple[int, cst.FunctionDef]]:
    if bound[name] != 1:
        return None
    for index, statement in enumerate(module.body):
        if isinstance(statement, cst.FunctionDef) and statement.name.value == name:
            params = statement.params
            if statement.asynchronous is not None or statement.decorators:
                return None  # a cached coroutine can be awaited only once; decorators may wrap anything
            if params.params or params.posonly_params or params.kwonly_params \
                    or isinstance(params.star_arg, cst.Param) or params.star_kwarg is not None:
                return None
            facts = _FactoryFacts()
            statement.body.visit(facts)
            if facts.unsafe:
                return None
            if not _callers_share_safely(module, name, parents, _lifecycle_methods(request, module, statement)):
                return None
            return index, statement
    return None


def fix_client_per_call(request: FixRequest) -> Optional[FixResult]:
    """Decorates a module-level factory without parameters with @functools.cache."""
    from libcst.codemod import CodemodContext
    from libcst.codemod.visitors import AddImportsVisitor
    from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider

    try:
        wrapper = MetadataWrapper(cst.parse_module(request.text))
    except (cst.ParserSyntaxError, RecursionError):
        return None
    module = wrapper.module
    positions = wrapper.resolve(PositionProvider)
    parents = wrapper.resolve(ParentNodeProvider)
    by_factory: dict[str, list[Finding]] = {}
    for finding in request.findings:
        for node, position in positions.items():
            if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and not node.args \
                    and (position.start.line, position.start.column + 1) == (finding.line, finding.column):
                by_factory.setdefault(node.func.value, []).append(finding)
                break
    bound = _module_bindings(module)
    new_module, fixed, names, add_import = module, [], [], ""
    for name in sorted(by_factory):
        found = _cacheable_factory(request, module, name, parents, bound)
        if found is None:
            continue
        index, factory = found
        decorator = _cache_decorator(module, index, bound)
        if decorator is None:
            continue
        expression, needed_import = decorator
        decorated = factory.with_changes(decorators=[cst.Decorator(decorator=cst.parse_expression(expression))])
        new_module = new_module.deep_replace(factory, decorated)  # type: ignore[assignment]
        add_import = add_import or needed_import
        fixed.extend(by_factory[name])
        names.append(name)
    if not fixed:
        return None
    placed = _insert_stdlib_import(new_module, "functools") if add_import == "module" else None
    if placed is not None:
        new_module = placed
    elif add_import:
        context = CodemodContext()
        AddImportsVisitor.add_needed_import(context, "functools", "cache" if add_import == "name" else None)
        new_module = AddImportsVisitor(context).transform_module(new_module)
    if add_import and not _import_precedes_uses(new_module, names):
        return None
    listed = ", ".join(f"`{n}()`" for n in names)
    return FixResult(new_module.code, tuple(fixed), f"cache the factory {listed} with @functools.cache")


def _imported_module(statement: cst.CSTNode) -> str:
    """The top-level package a one-import statement line imports, or ""."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return ""
    small = statement.body[0]
    if isinstance(small, cst.Import) and len(small.names) == 1:
        return small.names[0].evaluated_name.split(".")[0]
    if isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None:
        return (cst.helpers.get_full_name_for_node(small.module) or "").split(".")[0]
    return ""


# Python 3.9 has no sys.stdlib_module_names; these are the modules a database module usually imports.
_STDLIB_FALLBACK = frozenset({
    "abc", "asyncio", "atexit", "collections", "contextlib", "dataclasses", "datetime", "enum", "functools",
    "itertools", "json", "logging", "os", "pathlib", "re", "sys", "threading", "time", "typing", "uuid",
})


def _import_indices(module: cst.Module) -> list[int]:
    """Top-level one-import statement lines before the first other statement, `__future__` excluded."""
    indices = []
    for index, statement in enumerate(module.body):
        imported = _imported_module(statement)
        if not imported:
            if index == 0 and isinstance(statement, cst.SimpleStatementLine) and isinstance(
                    statement.body[0], cst.Expr) and isinstance(statement.body[0].value, cst.SimpleString):
                continue  # the module docstring
            break
        if imported != "__future__":
            indices.append(index)
    return indices


def _insert_stdlib_import(module: cst.Module, name: str) -> Optional[cst.Module]:
    """`import name` where isort puts it: among the standard-library imports, in order, before the others."""
    stdlib = getattr(sys, "stdlib_module_names", _STDLIB_FALLBACK)
    body = list(module.body)
    indices = _import_indices(module)
    if not indices:
        return None
    standard = [i for i in indices if _imported_module(body[i]) in stdlib]
    later = [i for i in standard if _imported_module(body[i]) > name]
    if later or not standard:
        index = later[0] if later else indices[0]
        statement = cst.parse_statement(f"import {name}").with_changes(leading_lines=body[index].leading_lines)
        # a new standard-library section is separated from the third-party one, as isort does
        body[index] = body[index].with_changes(leading_lines=() if standard else (cst.EmptyLine(),))
    else:
        index = standard[-1] + 1
        statement = cst.parse_statement(f"import {name}")
    body.insert(index, statement)
    return module.with_changes(body=body)


def _import_precedes_uses(module: cst.Module, factories: list[str]) -> bool:
    """The decorator runs when the def does: the functools import must come first."""
    def imports_functools(statement: cst.CSTNode) -> bool:
        return isinstance(statement, cst.SimpleStatementLine) and any(
            (isinstance(small, cst.Import) and any(a.evaluated_name == "functools" for a in small.names))
            or (isinstance(small, cst.ImportFrom) and small.module is not None and not small.relative
                and cst.helpers.get_full_name_for_node(small.module) == "functools")
            for small in statement.body
        )

    first_import = next((i for i, s in enumerate(module.body) if imports_functools(s)), None)
    defs = [i for i, s in enumerate(module.body) if isinstance(s, cst.FunctionDef) and s.name.value in factories]
    return first_import is not None and all(first_import < i for i in defs)


codemod("DBP101", PYTHON)(fix_client_per_call)
