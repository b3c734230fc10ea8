"""The libcst half of the engine: parse one file, run every file rule in one traversal.

Imported only when a file passes the byte screen, so that a run over files that
mention no database library never pays for importing libcst.
"""
from __future__ import annotations

import ast
import logging
import traceback
from collections import defaultdict
from pathlib import Path
from typing import Callable, Optional, Sequence

import libcst as cst

from poollint.python.cst.context import FileContext
from poollint.python.cst.modules import forget_loaded_modules
from poollint.python.cst.walk import traverse
from poollint.findings import Finding
from poollint.python.facts import without_base
from poollint.python.loading import spelling_lines
from poollint.python.project import ProjectIndex
from poollint.python.reads import record_index_answer
from poollint.config.lines import split_lines
from poollint.python.source import ParseFailure, decode, parse_skipping_unsupported
from poollint.engine.suppress import is_suppressed
from poollint.rules import file_rules
from poollint.rules.base import FileRule
from poollint.rules.meta import NotAnalyzable
from poollint.settings import Settings

logger = logging.getLogger(__name__)


def not_analyzable(path: str, failure: ParseFailure) -> Finding:
    return Finding(code=NotAnalyzable.code, name=NotAnalyzable.name, message=failure.reason, path=path,
                   line=failure.line, column=failure.column, fix_hint=NotAnalyzable.fix_hint)


class _Dispatcher(cst.CSTVisitor):
    """One traversal for all file rules: context first, then each rule's visit_/leave_ methods."""

    def __init__(self, context: FileContext, rules: Sequence[FileRule],
                 on_crash: Callable[[FileRule, BaseException], None]) -> None:
        self.context = context
        self.on_crash = on_crash
        self.visits: dict[str, list[tuple[FileRule, Callable]]] = defaultdict(list)
        self.leaves: dict[str, list[tuple[FileRule, Callable]]] = defaultdict(list)
        for rule in rules:
            for attribute in dir(type(rule)):
                if attribute.startswith("visit_"):
                    self.visits[attribute[6:]].append((rule, getattr(rule, attribute)))
                elif attribute.startswith("leave_"):
                    self.leaves[attribute[6:]].append((rule, getattr(rule, attribute)))
        self.crashed: set[int] = set()

    def _call(self, table: dict[str, list[tuple[FileRule, Callable]]], node: cst.CSTNode) -> None:
        for rule, method in table.get(type(node).__name__, ()):
            if id(rule) in self.crashed:
                continue
            try:
                method(node)
            except RecursionError:
                raise
            except Exception as error:  # one rule's bug must not hide the others' findings
                self.crashed.add(id(rule))
                self.on_crash(rule, error)

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.context.enter(node)
        self._call(self.visits, node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self._call(self.leaves, original_node)
        self.context.leave(original_node)


def analyze_source(path: Path, shown: str, data: bytes, settings: Settings, *,
                   module_name: str = "", index: Optional[ProjectIndex] = None,
                   parse_text: Optional[str] = None,
                   absent: frozenset[str] = frozenset()) -> tuple[list[Finding], int]:
    """Findings of one Python file (unscreened) and the number of internal rule errors.

    `parse_text`: the file with irrelevant definitions blanked out (python/slicing.py), line
    for line the same as the file; parsed instead of it. noqa comments are read from the file.
    `absent`: the screen's vocabularies the file names nowhere; a rule that requires one is not run.
    """
    forget_loaded_modules()  # no rule holds another module's nodes between files
    text = decode(data)
    if isinstance(text, ParseFailure):
        return unreadable_if_it_runs(not_analyzable(shown, text), path, index), 0
    module, skipped = parse_skipping_unsupported(parse_text if parse_text is not None else text)
    if isinstance(module, ParseFailure):
        return ([] if module.template else unreadable_if_it_runs(not_analyzable(shown, module), path, index)), 0
    unsupported = [not_analyzable(shown, failure) for failure in skipped]
    rule_classes = [rule for rule in file_rules()
                    if settings.is_enabled(rule.code, rule.opt_in) and rule.requires.isdisjoint(absent)]
    if not rule_classes:
        return unsupported, 0
    try:
        context = FileContext(path, shown, text, module, settings, module_name=module_name, index=index)
    except RecursionError:
        return [not_analyzable(shown, ParseFailure("too deeply nested to analyze"))], 0
    rules = [rule_class(context) for rule_class in rule_classes]
    crashes: list[Finding] = []

    def on_crash(rule: FileRule, error: BaseException) -> None:
        logger.debug("rule %s crashed on %s\n%s", rule.code, shown, traceback.format_exc())
        crashes.append(not_analyzable(shown, ParseFailure(
            f"internal error in {rule.code} {rule.name}: {error.__class__.__name__}: {error}")))

    dispatcher = _Dispatcher(context, rules, on_crash)
    try:
        traverse(module, dispatcher.on_visit, dispatcher.on_leave)
    except RecursionError:
        return [not_analyzable(shown, ParseFailure("too deeply nested to analyze"))], 0
    findings: list[Finding] = []
    for rule in rules:
        if id(rule) in dispatcher.crashed:
            continue
        try:
            rule.finish()
        except Exception as error:
            on_crash(rule, error)
            continue
        findings.extend(rule.findings)
    findings = one_per_root(findings)
    if findings and index is not None:
        findings = _in_code_that_runs(findings, path, index)
    if findings and index is not None:
        findings = _in_definitions_something_names(findings, path, text, context, index)
    lines = split_lines(text)
    kept = [f for f in findings if not is_suppressed(f.code, lines, (f.line,))]
    return kept + unsupported + crashes, len(crashes)


def unreadable_if_it_runs(finding: Finding, path: Path, index: Optional[ProjectIndex]) -> list[Finding]:
    """DBP000 for a file that cannot be decoded or parsed, unless no process loads its module
    (_in_code_that_runs): nothing a rule could find there runs (a backup copy of a router, an abandoned
    module an edit left broken), so the rules lose nothing by not reading it."""
    return _in_code_that_runs([finding], path, index) if index is not None else [finding]


def _in_code_that_runs(findings: list[Finding], path: Path, index: ProjectIndex) -> list[Finding]:
    """The findings, or none when no process loads the file's module (ProjectIndex.may_run): code that
    never runs holds no connection. The answer is recorded, so that a cached result is dropped when an
    import or a mention starts loading the module."""
    relative = index.relative(path)
    if relative is None:
        return findings
    runs = index.may_run(relative)
    record_index_answer(f"runs {relative}", runs)
    return findings if runs else []


def _in_definitions_something_names(findings: list[Finding], path: Path, text: str, context: FileContext,
                                    index: ProjectIndex) -> list[Finding]:
    """The findings, less those inside a module-level function, or a class without bases or
    decorators, that no file of the project names outside its own definition (ProjectIndex.files_spelling)
    except inside other such definitions that nothing names either: nothing calls it, so it holds no
    connection (a reminder job left unscheduled, a start-up hook whose call was commented out, a service
    class built only by a getter nobody calls). A decorator may register a function and a base may
    register a class, and a platform calls some functions by their name alone (the catalog's
    `called-by-name`, `handler-names`): those stay, as does the code of tests, of modules a framework
    loads by convention and of packages the project does not show running (a library's functions are
    its users' to call) or that are no regular package (a folder of snippets). The answers are recorded,
    so that a cached result is dropped when a file starts naming a definition."""
    relative = index.relative(path)
    if relative is None or relative in index.conventional or context.is_test_file \
            or not index.run_by_the_project(relative, regular=True):
        return findings
    # the file itself as the run reads it (an editor's unsaved buffer may differ from the disk), whole:
    # the definitions the slice left out may name the others
    definitions = _called_by_name_alone(text, context.settings.catalog.guards)
    reported = [name for name, spans in definitions.items()
                if any(first <= finding.line <= last for first, last in spans for finding in findings)]
    if not reported:
        return findings
    own = text.encode("utf-8", "surrogateescape")

    def holder(line: int) -> Optional[str]:
        return next((name for name, spans in definitions.items() if any(first <= line <= last for first, last in spans)),
                    None)

    def unnamed(name: str, assumed: frozenset[str]) -> bool:
        """No file names `name` but inside definitions that nothing names either (those in `assumed` are
        taken to be such: definitions that only name each other are called by nothing)."""
        spelled = index.files_spelling(name)
        record_index_answer(f"spelled {name}", tuple(sorted(spelled)))
        if spelled - {relative}:
            return False
        lines = spelling_lines(own, name)
        if lines is None:
            return False
        for line in lines:
            where = holder(line)
            if where is None:
                return False  # module-level code, or a definition a decorator or a base may register
            if where != name and where not in assumed and not unnamed(where, assumed | {name}):
                return False
        return True

    dropped = [span for name in reported if unnamed(name, frozenset()) for span in definitions[name]]
    return [f for f in findings if not any(first <= f.line <= last for first, last in dropped)]


def _called_by_name_alone(text: str, guards) -> dict[str, list[tuple[int, int]]]:
    """The line spans (from the `def` or `class` line) of the module-level functions and classes that
    only a call by their name can run: no decorator, no base but `object`, no name a platform or
    framework calls (`called-by-name`, `handler-names`, tests, dunders); by name, as a name may be bound
    twice. Nothing for a file `ast` cannot parse."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    found: dict[str, list[tuple[int, int]]] = {}
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            candidate = not statement.decorator_list
        elif isinstance(statement, ast.ClassDef):
            candidate = not statement.decorator_list and not statement.keywords and without_base(statement)
        else:
            continue
        name = statement.name
        if candidate and name not in guards.called_by_name and name not in guards.handler_names \
                and not name.startswith(("test", "pytest_", "__")):
            found.setdefault(name, []).append((statement.lineno, statement.end_lineno or statement.lineno))
    return found


def one_per_root(findings: list[Finding]) -> list[Finding]:
    """When findings of several families share a root cause, only the earliest family's is kept."""
    first_code: dict[tuple, str] = {}
    for finding in findings:
        if finding.root is not None:
            current = first_code.get(finding.root)
            if current is None or finding.code < current:
                first_code[finding.root] = finding.code
    return [f for f in findings if f.root is None or first_code[f.root] == f.code]
