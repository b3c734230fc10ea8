"""Pass two: screen each file, parse survivors once with libcst, run every enabled rule, collect findings."""
from __future__ import annotations

import logging
import os
import re
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

import libcst as cst

from poollint.engine.context import FileContext
from poollint.engine.files import discover, is_python_file
from poollint.engine.findings import Finding
from poollint.engine.parse import ParseFailure, decode, parse
from poollint.engine.suppress import ignored_by_path, is_suppressed
from poollint.rules import RULES_BY_CODE, file_rules
from poollint.rules.base import FileRule
from poollint.settings import Settings

logger = logging.getLogger(__name__)

_NOT_ANALYZABLE = RULES_BY_CODE["DBP000"]


@dataclass
class RunResult:
    findings: list[Finding] = field(default_factory=list)
    files_checked: int = 0
    internal_errors: int = 0  # rule crashes: the run exits 2


def display_path(path: Path, cwd: Optional[Path] = None) -> str:
    """Relative to the working directory when below it, POSIX separators."""
    cwd = cwd or Path.cwd()
    try:
        return path.resolve().relative_to(cwd.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def module_name_for(path: Path, root: Optional[Path]) -> str:
    """Dotted module name of a file below the project root (a leading `src/` dropped)."""
    try:
        parts = list(path.resolve().relative_to(root.resolve()).with_suffix("").parts) if root else []
    except ValueError:
        parts = []
    if not parts:
        parts = [path.stem]
    if parts and parts[0] == "src":
        parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(p for p in parts if p.isidentifier())


def screen_pattern(settings: Settings) -> "re.Pattern[bytes]":
    """Bytes that every file able to produce a Python finding contains: a catalog library's name."""
    words = sorted(settings.catalog.screen_words(), key=len, reverse=True)
    return re.compile(rb"\b(?:" + b"|".join(re.escape(w.encode()) for w in words) + rb")\b")


def not_analyzable(path: str, failure: ParseFailure) -> Finding:
    return Finding(code=_NOT_ANALYZABLE.code, name=_NOT_ANALYZABLE.name, message=failure.reason, path=path,
                   line=failure.line, column=failure.column, fix_hint=_NOT_ANALYZABLE.fix_hint)


class _Dispatcher(cst.CSTVisitor):
    """One traversal for all file rules: context first, then each rule's visit_/leave_ methods."""

    def __init__(self, context: FileContext, rules: Sequence[FileRule], on_crash: Callable[[FileRule, BaseException], None]) -> None:
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


def analyze_python(path: Path, shown: str, data: bytes, settings: Settings, *, screen: bool = True,
                   module_name: str = "") -> tuple[list[Finding], int]:
    """Findings of one Python file and the number of internal rule errors."""
    if screen and not screen_pattern_cached(settings).search(data):
        return [], 0
    text = decode(data)
    if isinstance(text, ParseFailure):
        return [not_analyzable(shown, text)], 0
    module = parse(text)
    if isinstance(module, ParseFailure):
        return [not_analyzable(shown, module)], 0
    rule_classes = [rule for rule in file_rules() if settings.is_enabled(rule.code)]
    if not rule_classes:
        return [], 0
    try:
        context = FileContext(path, shown, text, module, settings, module_name=module_name)
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
        module.visit(dispatcher)
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
    lines = text.splitlines()
    kept = [f for f in findings if not is_suppressed(f.code, lines, (f.line,))]
    return kept + crashes, len(crashes)


_SCREEN_CACHE: dict[str, "re.Pattern[bytes]"] = {}


def screen_pattern_cached(settings: Settings) -> "re.Pattern[bytes]":
    key = settings.fingerprint()
    if key not in _SCREEN_CACHE:
        _SCREEN_CACHE[key] = screen_pattern(settings)
    return _SCREEN_CACHE[key]


def one_per_root(findings: list[Finding]) -> list[Finding]:
    """When findings of several families share a root cause, only the earliest family's is kept."""
    first_code: dict[tuple, str] = {}
    for finding in findings:
        if finding.root is not None:
            current = first_code.get(finding.root)
            if current is None or finding.code < current:
                first_code[finding.root] = finding.code
    return [f for f in findings if f.root is None or first_code[f.root] == f.code]


def _filter(findings: Iterable[Finding], settings: Settings) -> list[Finding]:
    return [
        f for f in findings
        if settings.is_enabled(f.code) and not ignored_by_path(f.code, f.path, settings.per_file_ignores)
    ]


def check_paths(paths: Sequence[Path], settings: Settings, *, screen: bool = True) -> RunResult:
    """The whole run: every Python file below `paths`."""
    result = RunResult()
    root = settings.root or (paths[0] if paths and paths[0].is_dir() else Path.cwd())
    for path in discover(paths, settings.exclude):
        shown = display_path(path)
        if not is_python_file(path):
            continue
        try:
            data = path.read_bytes()
        except OSError as error:
            result.findings.append(not_analyzable(shown, ParseFailure(f"cannot read: {error.strerror or error}")))
            continue
        result.files_checked += 1
        findings, errors = analyze_python(path, shown, data, settings, screen=screen,
                                          module_name=module_name_for(path, root))
        result.findings.extend(findings)
        result.internal_errors += errors
    result.findings = sorted(_filter(result.findings, settings), key=Finding.sort_key)
    return result


def default_jobs() -> int:
    return os.cpu_count() or 1
