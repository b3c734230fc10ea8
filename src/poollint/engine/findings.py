"""Findings are frozen data; reporters turn them into text, JSON, SARIF or annotations."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass(frozen=True)
class Location:
    path: str  # POSIX, relative to the working directory when possible
    line: int  # 1-based
    column: int  # 1-based
    message: str = ""


@dataclass(frozen=True)
class Fix:
    """A replacement of the whole file's text, produced by a codemod."""

    description: str
    new_text: str


@dataclass(frozen=True, eq=True)
class Finding:
    code: str
    name: str
    message: str
    path: str
    line: int
    column: int
    related: tuple[Location, ...] = ()
    fix_hint: str = ""
    # What caused it: a later family's finding with the same root is the same bug, not reported twice.
    root: Optional[tuple[Any, ...]] = field(default=None, compare=False, hash=False)

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.code)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "fix_hint": self.fix_hint,
            "related": [
                {"path": r.path, "line": r.line, "column": r.column, "message": r.message} for r in self.related
            ],
        }
