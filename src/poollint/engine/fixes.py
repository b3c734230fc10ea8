"""Safe autofixes: a registry of codemods keyed by rule code, applied and verified one file at a time.

A fix is kept only when the file re-analyzes to the same findings minus the ones
it claims to fix; a file with a parse error is never touched.
"""
from __future__ import annotations

import codecs
import difflib
import io
import os
import re
import stat
import sys
import tokenize
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping, Optional, Sequence

import libcst as cst
import libcst.helpers

from poollint.config.lines import split_lines, split_lines_keeping_ends
from poollint.config.urls import mask_text
from poollint.engine.baseline import fingerprint
from poollint.limits import atomic_write
from poollint.findings import Finding
from poollint.limits import read_bytes
from poollint.settings import Settings


@dataclass(frozen=True)
class FixRequest:
    """What a fixer sees: one file's current text and its findings of the fixer's code."""

    path: Path
    shown: str
    text: str
    findings: tuple[Finding, ...]
    settings: Settings


@dataclass(frozen=True)
class FixResult:
    new_text: str
    fixed: tuple[Finding, ...]  # the findings of the request this edit removes
    description: str


Fixer = Callable[[FixRequest], Optional[FixResult]]
# An analyzer returns a file's findings for its bytes (in a run over `paths`), or None when it cannot tell.
Analyzer = Callable[[Path, str, bytes, Settings, Sequence[Path]], Optional[list]]


@dataclass(frozen=True)
class FixerEntry:
    code: str
    fix: Fixer
    applies_to: Callable[[Path], bool]
    analyze: Analyzer


FIXERS: dict[str, FixerEntry] = {}


def register(code: str, applies_to: Callable[[Path], bool], analyze: Analyzer) -> Callable[[Fixer], Fixer]:
    """Adds a fixer for `code`; rules of every family plug in here."""
    def decorate(fix: Fixer) -> Fixer:
        FIXERS[code] = FixerEntry(code, fix, applies_to, analyze)
        return fix
    return decorate


def fixable_codes() -> frozenset[str]:
    return frozenset(FIXERS)


# -- one file --------------------------------------------------------------------------------
@dataclass
class FileFix:
    path: Path
    shown: str
    old_text: str
    new_text: str
    encoding: str
    bom: bool
    descriptions: list[str] = field(default_factory=list)
    fixed: list[Finding] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.new_text != self.old_text

    def diff(self) -> str:
        lines = difflib.unified_diff(
            split_lines_keeping_ends(self.old_text), split_lines_keeping_ends(self.new_text),
            fromfile=self._label("a"), tofile=self._label("b"),
        )
        return "".join(mask_text(_terminated(line)) for line in lines)

    def _label(self, side: str) -> str:
        return self.shown if self.shown.startswith("/") else f"{side}/{self.shown}"

    def write(self) -> None:
        """Replaces the file whole (a full disk or a crash leaves the old text), keeping its permissions;
        raises OSError when it cannot."""
        data = (codecs.BOM_UTF8 if self.bom else b"") + self.new_text.encode(self.encoding)
        target = self.path.resolve()  # a link inside the project stays a link; its target is fixed
        mode = stat.S_IMODE(os.stat(target).st_mode)
        atomic_write(target, data)
        os.chmod(target, mode)


def _terminated(line: str) -> str:
    return line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n"


def _read(path: Path) -> Optional[tuple[str, str, bool]]:
    """(text, encoding, had a UTF-8 BOM), or None when the file cannot be decoded."""
    try:
        data = read_bytes(path, "python")
    except OSError:
        return None
    bom = data.startswith(codecs.BOM_UTF8)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline) if path.suffix in (".py", ".pyi") \
            else ("utf-8", None)
        text = data[len(codecs.BOM_UTF8) if bom else 0:].decode("utf-8" if encoding == "utf-8-sig" else encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError):
        return None
    if "\x00" in text:
        return None
    return text, ("utf-8" if encoding == "utf-8-sig" else encoding), bom


def _comparable(findings: Iterable[Finding], text: str) -> Counter:
    lines = split_lines(text)
    return Counter((f.code, fingerprint(f, lines).line_hash) for f in findings)


def fix_file(path: Path, shown: str, codes: Iterable[str], settings: Settings,
             paths: Sequence[Path] = ()) -> Optional[FileFix]:
    """Applies every registered fixer for `codes` that verifies; None when the file is left alone."""
    read = _read(path)
    if read is None:
        return None
    text, encoding, bom = read
    result = FileFix(path, shown, text, text, encoding, bom)
    for code in sorted(set(codes)):
        entry = FIXERS.get(code)
        if entry is None or not entry.applies_to(path) or not settings.is_enabled(code):
            continue
        data = result.new_text.encode(encoding)
        before = _enabled(entry.analyze(path, shown, data, settings, paths or [path]), shown, settings)
        if before is None or any(f.code == "DBP000" for f in before):
            return None  # never touch a file that does not parse
        targets = tuple(f for f in before if f.code == code)
        if not targets:
            continue
        attempt = entry.fix(FixRequest(path, shown, result.new_text, targets, settings))
        if attempt is None or attempt.new_text == result.new_text or not attempt.fixed:
            continue
        try:
            data = attempt.new_text.encode(encoding)
        except UnicodeEncodeError:
            continue
        after = _enabled(entry.analyze(path, shown, data, settings, paths or [path]), shown, settings)
        if after is None:
            continue
        remaining = [f for f in before if f not in attempt.fixed]
        if _comparable(after, attempt.new_text) != _comparable(remaining, result.new_text):
            continue  # the edit changed more than the findings it claims: not safe
        result.new_text = attempt.new_text
        result.descriptions.append(attempt.description)
        result.fixed.extend(attempt.fixed)
    return result if result.changed else None


def _enabled(findings: Optional[list], shown: str, settings: Settings) -> Optional[list]:
    if findings is None:
        return None
    return [f for f in findings
            if settings.is_enabled(f.code) and not settings.is_ignored_by_path(f.code, f.path)]


def fix_findings(findings: Sequence[Finding], settings: Settings, paths: Sequence[Path] = ()) -> list[FileFix]:
    """Fixes for every file holding a finding some fixer handles, in path order; `paths` are the run's."""
    codes_by_path: dict[str, set[str]] = {}
    for finding in findings:
        if finding.code in fixable_codes():
            codes_by_path.setdefault(finding.path, set()).add(finding.code)
    fixes = []
    for shown in sorted(codes_by_path):
        fixed = fix_file(Path(shown), shown, codes_by_path[shown], settings, paths)
        if fixed is not None:
            fixes.append(fixed)
    return fixes


# -- analyzers ----------------------------------------------------------------------------------
def is_python(path: Path) -> bool:
    return path.suffix in (".py", ".pyi")


def analyze_python_bytes(path: Path, shown: str, data: bytes, settings: Settings,
                         paths: Sequence[Path] = ()) -> Optional[list]:
    from poollint.engine.runner import analyze_python, module_name_for, project_root

    module_name = module_name_for(path, project_root([path], settings))
    findings, errors = analyze_python(path, shown, data, settings, screen=False, module_name=module_name)
    return None if errors else findings


# -- DBP101: cache a module-level factory --------------------------------------------------------
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
            for node in _assigned_names(statement):
                bound[node] += 2
    return bound


class _Targets(cst.CSTVisitor):
    """Names a compound module-level statement may bind (its branches, loops, handlers)."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def _add(self, target: cst.CSTNode) -> None:
        if isinstance(target, cst.Name):
            self.names.append(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._add(element.value)
        elif isinstance(target, cst.StarredElement):
            self._add(target.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._add(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._add(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._add(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._add(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        self._add(node.name)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._add(node.name.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._add(node.target)

    def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
        self.names.append(node.evaluated_alias or node.evaluated_name.split(".")[0])

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.names.append(node.name.value)
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.names.append(node.name.value)
        return False


def _assigned_names(statement: cst.CSTNode) -> list[str]:
    collector = _Targets()
    statement.visit(collector)
    return collector.names


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


register("DBP101", is_python, analyze_python_bytes)(fix_client_per_call)


# -- DBP302 / DBP301: release in a `finally` -------------------------------------------------------
class _LeavesBlock(cst.CSTVisitor):
    """Statements that leave a block early: inside try/finally they would now release first."""

    def __init__(self) -> None:
        self.loops = 0
        self.found = False

    def visit_Return(self, node: cst.Return) -> None:
        self.found = True

    def visit_Yield(self, node: cst.Yield) -> None:
        self.found = True

    def visit_Global(self, node: cst.Global) -> None:
        self.found = True

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.found = True

    def visit_Break(self, node: cst.Break) -> None:
        self.found = self.found or self.loops == 0

    def visit_Continue(self, node: cst.Continue) -> None:
        self.found = self.found or self.loops == 0

    def visit_For(self, node: cst.For) -> None:
        self.loops += 1

    def leave_For(self, original_node: cst.For) -> None:
        self.loops -= 1

    def visit_While(self, node: cst.While) -> None:
        self.loops += 1

    def leave_While(self, original_node: cst.While) -> None:
        self.loops -= 1

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False


def _leaves_early(statements: Sequence[cst.CSTNode]) -> bool:
    visitor = _LeavesBlock()
    for statement in statements:
        statement.visit(visitor)
    return visitor.found


@dataclass(frozen=True)
class _Located:
    module: cst.Module
    block: cst.IndentedBlock
    index: int  # of the statement in block.body
    positions: Mapping

    def lines_of(self, statement: cst.CSTNode) -> tuple[int, int]:
        position = self.positions[statement]
        return position.start.line, position.end.line


def _locate_statement(text: str, line: int, column: int) -> Optional[_Located]:
    """The simple statement holding the call that starts at (line, column), in a function or `if` block."""
    from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider

    try:
        wrapper = MetadataWrapper(cst.parse_module(text))
    except (cst.ParserSyntaxError, RecursionError):
        return None
    positions = wrapper.resolve(PositionProvider)
    parents = wrapper.resolve(ParentNodeProvider)
    call = next((n for n, p in positions.items() if isinstance(n, cst.Call)
                 and (p.start.line, p.start.column + 1) == (line, column)), None)
    node: Optional[cst.CSTNode] = call
    while node is not None and not isinstance(node, cst.SimpleStatementLine):
        node = parents.get(node)
    if node is None or len(node.body) != 1:
        return None
    block = parents.get(node)
    if not isinstance(block, cst.IndentedBlock):
        return None  # module level: wrapping the rest of a module is no longer a small edit
    return _Located(wrapper.module, block, list(block.body).index(node), positions)


def _wrap_in_try_finally(located: _Located, start: int, end: int, release: cst.SimpleStatementLine,
                         consume_end: bool) -> Optional[str]:
    """`try: <block.body[start:end]> finally: <release>`; with consume_end the statement at `end` is the
    release being moved. None when the work is empty or leaves the block early (then `finally` would
    release before a `return` that may still need the connection)."""
    body = list(located.block.body)
    work = body[start:end]
    if not work or _leaves_early(work):
        return None
    first = work[0]
    blank = 0
    while blank < len(first.leading_lines) and first.leading_lines[blank].comment is None:
        blank += 1
    work[0] = first.with_changes(leading_lines=first.leading_lines[blank:])
    release = release.with_changes(leading_lines=[line for line in release.leading_lines if line.comment is not None])
    statement = cst.Try(
        body=cst.IndentedBlock(body=work),
        finalbody=cst.Finally(body=cst.IndentedBlock(body=[release])),
        leading_lines=first.leading_lines[:blank],
    )
    tail = body[end + 1:] if consume_end else body[end:]
    new_block = located.block.with_changes(body=[*body[:start], statement, *tail])
    return located.module.deep_replace(located.block, new_block).code  # type: ignore[union-attr]


_OPENED_ON = re.compile(r"opened on line (\d+)")


def fix_disconnect_not_exception_safe(request: FixRequest) -> Optional[FixResult]:
    """Moves a happy-path release into a `finally` around the work between opening and release."""
    text, fixed = request.text, []
    for finding in sorted(request.findings, key=lambda f: (f.line, f.column), reverse=True):
        opened = _OPENED_ON.search(finding.message)
        located = _locate_statement(text, finding.line, finding.column)
        if opened is None or located is None:
            continue
        body = list(located.block.body)
        line = int(opened[1])
        opening = next((i for i in range(located.index)
                        if located.lines_of(body[i])[0] <= line <= located.lines_of(body[i])[1]), None)
        if opening is None or not isinstance(body[opening], cst.SimpleStatementLine):
            continue  # opened in another block or by a compound statement: the edit would not be local
        release = body[located.index]
        assert isinstance(release, cst.SimpleStatementLine)
        new_text = _wrap_in_try_finally(located, opening + 1, located.index, release, consume_end=True)
        if new_text is not None:
            text = new_text
            fixed.append(finding)
    if not fixed:
        return None
    return FixResult(text, tuple(fixed), "move the release into a `finally` block")


register("DBP302", is_python, analyze_python_bytes)(fix_disconnect_not_exception_safe)


_NEVER_CALLS = re.compile(r"never calls `(\w+)\(\)`")


class _Rebinds(cst.CSTVisitor):
    def __init__(self, name: str) -> None:
        self.name = name
        self.found = False

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self.found = self.found or self.name in _assigned_names(node)

    def visit_AsName(self, node: cst.AsName) -> None:
        self.found = self.found or (isinstance(node.name, cst.Name) and node.name.value == self.name)

    def visit_Del(self, node: cst.Del) -> None:
        self.found = True


def _opened_name(statement: cst.SimpleStatementLine) -> Optional[tuple[str, bool]]:
    """The name holding the opened client, and whether the opening was awaited."""
    small = statement.body[0]
    if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
        value = small.value
        awaited = isinstance(value, cst.Await)
        value = value.expression if isinstance(value, cst.Await) else value
        return (small.targets[0].target.value, awaited) if isinstance(value, cst.Call) else None
    if isinstance(small, cst.Expr):
        value = small.value
        awaited = isinstance(value, cst.Await)
        value = value.expression if isinstance(value, cst.Await) else value
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) \
                and isinstance(value.func.value, cst.Name):
            return value.func.value.value, awaited
    return None


def fix_script_never_disconnects(request: FixRequest) -> Optional[FixResult]:
    """Releases a script's client in a `finally` around the rest of the block that opened it."""
    text, fixed = request.text, []
    for finding in sorted(request.findings, key=lambda f: (f.line, f.column), reverse=True):
        method = _NEVER_CALLS.search(finding.message)
        located = _locate_statement(text, finding.line, finding.column)
        if method is None or located is None or ";" in finding.message:
            continue  # a note after the release name explains a case this edit does not cover
        opening = located.block.body[located.index]
        assert isinstance(opening, cst.SimpleStatementLine)
        opened = _opened_name(opening)
        if opened is None:
            continue
        name, awaited = opened
        if not awaited and _in_async_function(located):
            continue  # an async client built without await: its release may need an await we cannot know
        rest = list(located.block.body)[located.index + 1:]
        rebinds = _Rebinds(name)
        for statement in rest:
            statement.visit(rebinds)
        if rebinds.found:
            continue
        release = cst.parse_statement(f"{'await ' if awaited else ''}{name}.{method[1]}()")
        assert isinstance(release, cst.SimpleStatementLine)
        end = len(located.block.body)
        new_text = _wrap_in_try_finally(located, located.index + 1, end, release, consume_end=False)
        if new_text is not None:
            text = new_text
            fixed.append(finding)
    if not fixed:
        return None
    return FixResult(text, tuple(fixed), "release the client in a `finally` block")


def _in_async_function(located: _Located) -> bool:
    """Is the block the body of an `async def` (or inside one)?"""
    finder = _AsyncOwner(located.block)
    located.module.visit(finder)
    return finder.is_async


class _AsyncOwner(cst.CSTVisitor):
    def __init__(self, block: cst.IndentedBlock) -> None:
        self.block = block
        self.stack: list[bool] = []
        self.is_async = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.stack.append(node.asynchronous is not None)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.stack.pop()

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        if node is self.block:
            self.is_async = bool(self.stack and self.stack[-1])


register("DBP301", is_python, analyze_python_bytes)(fix_script_never_disconnects)


# -- DBP408 / DBP402: one URL on one line of a configuration file ----------------------------------
def is_configuration(path: Path) -> bool:
    return not is_python(path)


def analyze_config_bytes(path: Path, shown: str, data: bytes, settings: Settings,
                         paths: Sequence[Path] = ()) -> Optional[list]:
    """The file's DBP4xx findings in a run over `paths` (its Python tells who reads a URL), `data` its content."""
    try:
        from poollint.config import project
        from poollint.engine.configcheck import check_config
        from poollint.engine.files import discover
        from poollint.engine.runner import project_root
        from poollint.paths import display_path
        from poollint.python.screen import passes_screen
    except ImportError:
        return None
    original = getattr(project, "_read", None)
    if original is None:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    target = path.resolve()

    def read(candidate: Path, candidate_shown: str, model: object) -> Optional[str]:
        return text if Path(candidate).resolve() == target else original(candidate, candidate_shown, model)

    paths = list(paths) or [path]
    files = list(discover(paths, settings.is_excluded))
    project._read = read  # type: ignore[attr-defined]
    try:
        findings, errors = check_config(files, paths, project_root(paths, settings), settings, display_path,
                                        lambda content: passes_screen(content, settings))
    finally:
        project._read = original  # type: ignore[attr-defined]
    return None if errors else [f for f in findings if f.path == shown]


def _edit_line(text: str, line: int, edit: Callable[[str], Optional[str]]) -> Optional[str]:
    lines = split_lines_keeping_ends(text)
    if not 1 <= line <= len(lines):
        return None
    replaced = edit(lines[line - 1])
    if replaced is None or replaced == lines[line - 1]:
        return None
    lines[line - 1] = replaced
    return "".join(lines)


def _fix_lines(request: FixRequest, edit: Callable[[str, Finding], Optional[str]],
               description: str) -> Optional[FixResult]:
    text, fixed = request.text, []
    for finding in request.findings:
        new_text = _edit_line(text, finding.line, lambda line: edit(line, finding))
        if new_text is not None:
            text = new_text
            fixed.append(finding)
    return FixResult(text, tuple(fixed), description) if fixed else None


_POSTGRES_SCHEME = re.compile(r"(?<![A-Za-z0-9+.\-])postgres://")


def fix_deprecated_scheme(request: FixRequest) -> Optional[FixResult]:
    """`postgres://` -> `postgresql://` on the reported line; the rest of the URL is untouched."""
    def edit(line: str, finding: Finding) -> Optional[str]:
        if len(_POSTGRES_SCHEME.findall(line)) != 1:
            return None
        return _POSTGRES_SCHEME.sub("postgresql://", line, count=1)

    return _fix_lines(request, edit, "write `postgresql://` instead of `postgres://`")


_POSTGRES_URL = re.compile(r"postgres(?:ql)?(?:\+\w+)?://[^\s\"'#]+")


def fix_prisma_pgbouncer_mode(request: FixRequest) -> Optional[FixResult]:
    """Appends `pgbouncer=true` to a Prisma URL that goes through a transaction-mode pooler."""
    def edit(line: str, finding: Finding) -> Optional[str]:
        if "`pgbouncer=true`" not in finding.message:
            return None  # asyncpg and SQLAlchemy settings belong in code or the driver's URL syntax
        urls = list(_POSTGRES_URL.finditer(line))
        if len(urls) != 1 or "pgbouncer=" in urls[0].group():
            return None
        url = urls[0].group()
        separator = "" if url.endswith(("?", "&")) else ("&" if "?" in url else "?")
        return line[:urls[0].end()] + f"{separator}pgbouncer=true" + line[urls[0].end():]

    return _fix_lines(request, edit, "add `pgbouncer=true` to the Prisma URL")


register("DBP402", is_configuration, analyze_config_bytes)(fix_prisma_pgbouncer_mode)
register("DBP408", is_configuration, analyze_config_bytes)(fix_deprecated_scheme)
