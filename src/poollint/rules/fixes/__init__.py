"""Safe autofixes beside their rule families: each codemod takes one file's text and findings of its
code and returns the edited text; engine/fixes.py applies it and keeps it only when the file then
re-analyzes to the same findings minus the fixed ones.

Codemods read a finding's `fields` (the values its message was rendered from), never its text.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import libcst as cst

from poollint.findings import Finding
from poollint.settings import Settings


@dataclass(frozen=True)
class FixRequest:
    """What a codemod sees: one file's current text and its findings of the codemod's code."""

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


Codemod = Callable[[FixRequest], Optional[FixResult]]
PYTHON, CONFIGURATION = "python", "configuration"  # the kind of file a codemod edits
# rule code -> (the kind of file it edits, the codemod)
CODEMODS: dict[str, tuple[str, Codemod]] = {}


def codemod(code: str, kind: str) -> Callable[[Codemod], Codemod]:
    def register(fix: Codemod) -> Codemod:
        CODEMODS[code] = (kind, fix)
        return fix
    return register


def all_codemods() -> dict[str, tuple[str, Codemod]]:
    """Every family's codemods, by rule code."""
    from poollint.rules.fixes import configuration, creation, release  # noqa: F401  (they register)

    return CODEMODS


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


def assigned_names(statement: cst.CSTNode) -> list[str]:
    collector = _Targets()
    statement.visit(collector)
    return collector.names
