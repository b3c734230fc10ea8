"""Safe autofixes beside their rule families: each codemod takes one file's text and findings of its
code and returns the edited text; engine/fixes.py applies it and keeps it only when the file then
re-analyzes to the same findings minus the fixed ones.

Codemods read a finding's `fields` (the values its message was rendered from), never its text.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

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


